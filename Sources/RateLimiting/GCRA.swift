/// The GCRA arithmetic for one key, shared by the in-process limiter and documented next to the
/// Redis script that mirrors it (`ClusterState.RedisRateLimiter`).
///
/// `tat` is the key's theoretical arrival time (seconds, the limiter's clock). A request at `now`
/// is admitted when `max(tat, now) + interval − now ≤ burst × interval`; then `tat` moves to
/// `max(tat, now) + interval`.
public enum GCRA {
    /// The outcome for one key and limit, and the key's new arrival time when admitted.
    public static func evaluate(tat: Double?, now: Double, limit: RateLimit) -> (decision: RateLimitDecision, newTAT: Double?) {
        let interval = limit.interval
        let capacity = Double(limit.burst) * interval
        let start = max(tat ?? now, now)
        let next = start + interval
        let wait = next - now - capacity
        if wait > 1e-9 {
            return (RateLimitDecision(allowed: false, limit: limit, remaining: 0, reset: start - now, retryAfter: wait), nil)
        }
        let remaining = Int(((capacity - (next - now)) / interval + 1e-9).rounded(.down))
        return (RateLimitDecision(allowed: true, limit: limit, remaining: remaining, reset: next - now, retryAfter: 0), next)
    }
}

extension GCRA {
    /// Several limits on one request: admitted only when every one admits (and then every one is
    /// charged). The decision names the refusing limit that asks for the longest wait, or — when
    /// admitted — the limit with the fewest requests left.
    public static func evaluate(_ checks: [RateLimitCheck], tats: [Double?], now: Double) -> (decision: RateLimitDecision, newTATs: [Double]?) {
        var admitted: [(RateLimitDecision, Double)] = []
        var refusal: RateLimitDecision?
        for (check, tat) in zip(checks, tats) {
            let (decision, next) = evaluate(tat: tat, now: now, limit: check.limit)
            if let next {
                admitted.append((decision, next))
            } else if refusal == nil || decision.retryAfter > refusal!.retryAfter {
                refusal = decision
            }
        }
        if let refusal { return (refusal, nil) }
        guard let tightest = admitted.min(by: { $0.0.remaining < $1.0.remaining }) else { return (.unlimited, []) }
        return (tightest.0, admitted.map(\.1))
    }
}

/// One limit to check for one request: the limit and the key it counts under (a principal's id
/// digest, an IP, `tenant:default`…).
public struct RateLimitCheck: Sendable, Equatable {
    public let key: String
    public let limit: RateLimit

    public init(key: String, limit: RateLimit) {
        self.key = key
        self.limit = limit
    }
}

/// Decides whether a request is within its limits: in this process (`LocalRateLimiter`) or for
/// the whole cluster (`ClusterState.RedisRateLimiter`).
public protocol RateLimiter: Sendable {
    /// Checks every limit of one request at once (all admit and are charged, or none is).
    func check(_ checks: [RateLimitCheck]) async -> RateLimitDecision
}
