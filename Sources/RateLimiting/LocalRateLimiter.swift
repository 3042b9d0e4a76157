import Synchronization
import Telemetry

/// GCRA limits in this process: one arrival time per key under one lock (a decision is a
/// dictionary lookup and a few additions: well under a microsecond). Bounded: beyond `maxKeys`
/// the keys whose bursts are whole again (they carry no information) are dropped first, then the
/// ones closest to it — a key can at worst get its burst back early, never block others.
public final class LocalRateLimiter: RateLimiter {
    public let maxKeys: Int
    private let tats = Mutex<[String: Double]>([:])
    private let origin = ContinuousClock.now
    /// Scales every limit (1 / the number of replicas when standing in for a cluster).
    private let share: Double

    public init(maxKeys: Int = 100_000, share: Double = 1) {
        self.maxKeys = max(16, maxKeys)
        self.share = min(1, max(0.000_001, share))
    }

    /// Seconds on this limiter's clock.
    public func now() -> Double {
        (ContinuousClock.now - origin).seconds
    }

    public func check(_ checks: [RateLimitCheck]) async -> RateLimitDecision { decide(checks, now: now()) }

    /// The decision at `now` (seconds on this limiter's clock); synchronous, for tests and benchmarks.
    public func decide(_ checks: [RateLimitCheck], now: Double) -> RateLimitDecision {
        guard !checks.isEmpty else { return .unlimited }
        let scaled = share == 1 ? checks : checks.map { RateLimitCheck(key: $0.key, limit: Self.scale($0.limit, share)) }
        return tats.withLock { tats in
            let (decision, next) = GCRA.evaluate(scaled, tats: scaled.map { tats[$0.key] }, now: now)
            if let next {
                if tats.count + scaled.count > maxKeys { Self.makeRoom(&tats, now: now, keep: maxKeys - scaled.count) }
                for (check, tat) in zip(scaled, next) { tats[check.key] = tat }
            }
            return decision
        }
    }

    /// Keys held.
    public var count: Int { tats.withLock { $0.count } }

    static func scale(_ limit: RateLimit, _ share: Double) -> RateLimit {
        RateLimit(name: limit.name, perSecond: limit.perSecond * share, burst: max(1, Int((Double(limit.burst) * share).rounded(.up))))
    }

    private static func makeRoom(_ tats: inout [String: Double], now: Double, keep: Int) {
        tats = tats.filter { $0.value > now }
        guard tats.count > keep else { return }
        let drop = tats.count - keep + keep / 10  // room for a while, not for one key
        for key in tats.sorted(by: { $0.value < $1.value }).prefix(drop).map(\.key) { tats[key] = nil }
    }
}
