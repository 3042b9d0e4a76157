import Foundation
import Logging
import RateLimiting
import RedisClient

/// Rate limits for the whole cluster: every limit of a request is checked and charged in one
/// atomic script (GCRA, the same arithmetic as `GCRA.evaluate`, on Redis's own clock `TIME` so
/// replicas' clocks do not matter) — one round trip per decision. When Redis cannot be asked,
/// `fallback` decides (the local limits divided by the replica count), the decision says so,
/// and a warning is logged at most every 10 s: never silently unlimited.
public final class RedisRateLimiter: RateLimiter {
    let pool: RedisConnectionPool
    let keys: ClusterKeys
    let fallback: LocalRateLimiter
    private let logger: Logger
    private let warnings = OncePerWindow(window: .seconds(10))

    public init(pool: RedisConnectionPool, keys: ClusterKeys, fallback: LocalRateLimiter, logger: Logger = Logger(label: "qlik-mcp.limits")) {
        self.pool = pool
        self.keys = keys
        self.fallback = fallback
        self.logger = logger
    }

    /// ARGV: per key its interval and capacity (burst × interval) in µs. Returns
    /// {admitted, index of the deciding limit, remaining or wait µs, reset µs}.
    static let script = RedisScript(
        name: "rate_limit",
        source: """
            local clock = redis.call('TIME')
            local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
            local next = {}
            local worst, worstWait, worstReset = 0, -1, 0
            local tight, tightRemaining, tightReset = 0, -1, 0
            for i = 1, #KEYS do
              local interval = tonumber(ARGV[2 * i - 1])
              local capacity = tonumber(ARGV[2 * i])
              local tat = tonumber(redis.call('GET', KEYS[i]) or now)
              local start = math.max(tat, now)
              local arrival = start + interval
              local wait = arrival - now - capacity
              if wait > 0 then
                if wait > worstWait then worst, worstWait, worstReset = i, wait, start - now end
              else
                next[i] = arrival
                local remaining = math.floor((capacity - (arrival - now)) / interval)
                if tight == 0 or remaining < tightRemaining then tight, tightRemaining, tightReset = i, remaining, arrival - now end
              end
            end
            if worst > 0 then return {0, worst, worstWait, worstReset} end
            for i = 1, #KEYS do
              redis.call('SET', KEYS[i], string.format('%d', next[i]), 'PX', math.floor((next[i] - now) / 1000) + 1)
            end
            return {1, tight, tightRemaining, tightReset}
            """)

    public func check(_ checks: [RateLimitCheck]) async -> RateLimitDecision {
        guard !checks.isEmpty else { return .unlimited }
        var arguments: [String] = []
        for check in checks {
            let interval = max(1, (check.limit.interval * 1_000_000).rounded())
            arguments += [String(Int64(interval)), String(Int64(interval * Double(check.limit.burst)))]
        }
        do {
            let reply = try await pool.run(Self.script, keys: checks.map { keys.rateLimit($0.key) }, arguments: arguments)
            guard let parts = reply.elements, parts.count == 4, let admitted = parts[0].int, let index = parts[1].int,
                let value = parts[2].int, let reset = parts[3].int, (1...checks.count).contains(Int(index))
            else { throw RedisError.protocolViolation("the rate limit script answered \(reply)") }
            let limit = checks[Int(index) - 1].limit
            if admitted == 1 {
                return RateLimitDecision(allowed: true, limit: limit, remaining: Int(value), reset: Double(reset) / 1e6, retryAfter: 0)
            }
            return RateLimitDecision(allowed: false, limit: limit, remaining: 0, reset: Double(reset) / 1e6, retryAfter: Double(value) / 1e6)
        } catch {
            warn(error)
            let local = await fallback.check(checks)
            return RateLimitDecision(
                allowed: local.allowed, limit: local.limit, remaining: local.remaining, reset: local.reset, retryAfter: local.retryAfter, fallback: true)
        }
    }

    private func warn(_ error: any Error) {
        if warnings.first("redis") {
            logger.warning(
                "rate limits decided in this process: Redis cannot be asked (each replica admits its share)",
                metadata: ["error.type": .string(String(describing: type(of: error)))])
        }
    }
}
