/// One limit: a rate and a burst, named for metrics and for the caller (`principal`,
/// `tool:query_data`, `ip:oauth_register`, `tenant`). Written `5/s`, `300/m`, `1/min`, `100/h`.
///
/// Enforced with GCRA (the generic cell rate algorithm): each key keeps one timestamp, the
/// theoretical arrival time of its next request. It admits exactly what a token bucket of the
/// same rate and burst would, but needs no refill timer and one number per key — so the same
/// arithmetic runs in process and as one atomic Redis script, and both agree.
public struct RateLimit: Sendable, Equatable, CustomStringConvertible {
    public let name: String
    /// Requests per second allowed on average.
    public let perSecond: Double
    /// Requests allowed at once after a quiet period (≥ 1).
    public let burst: Int

    public init(name: String, perSecond: Double, burst: Int) {
        self.name = name
        self.perSecond = perSecond
        self.burst = max(1, burst)
    }

    /// Seconds between requests at the steady rate.
    public var interval: Double { 1 / perSecond }

    public var description: String { "\(name): \(Self.format(perSecond)) burst \(burst)" }

    /// The rate as written back (`5/s`, `300/m`).
    public static func format(_ perSecond: Double) -> String {
        if perSecond >= 1, perSecond.rounded() == perSecond { return "\(Int(perSecond))/s" }
        let perMinute = perSecond * 60
        if perMinute >= 1, (perMinute * 1000).rounded() / 1000 == perMinute.rounded() { return "\(Int(perMinute.rounded()))/m" }
        return "\(Int((perSecond * 3600).rounded()))/h"
    }

    /// Why a rate text cannot be read, or its requests per second.
    public static func parse(rate text: String) -> Result<Double, RateLimitSyntaxError> {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: "/", maxSplits: 1)
        guard parts.count == 2, let count = Double(parts[0].trimmingCharacters(in: .whitespaces)), count.isFinite, count > 0 else {
            return .failure(RateLimitSyntaxError(text: text, reason: "write it as COUNT/UNIT, e.g. 5/s, 300/m, 100/h"))
        }
        let seconds: Double
        switch parts[1].trimmingCharacters(in: .whitespaces).lowercased() {
        case "s", "sec", "second": seconds = 1
        case "m", "min", "minute": seconds = 60
        case "h", "hour": seconds = 3600
        case "d", "day": seconds = 86_400
        default: return .failure(RateLimitSyntaxError(text: text, reason: "the unit must be s, m, h or d"))
        }
        let perSecond = count / seconds
        guard perSecond <= 1_000_000, perSecond >= 1.0 / 86_400 / 1_000 else {
            return .failure(RateLimitSyntaxError(text: text, reason: "the rate must be between 1/day and 1,000,000/s"))
        }
        return .success(perSecond)
    }
}

/// A rate text that cannot be read.
public struct RateLimitSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    public let text: String
    public let reason: String
    public var description: String { "'\(text)' is not a rate: \(reason)" }
}

/// What a limiter decided for one request.
public struct RateLimitDecision: Sendable, Equatable {
    public let allowed: Bool
    /// The limit that refused it (or, when allowed, the one closest to refusing).
    public let limit: RateLimit?
    /// Requests left in the burst of that limit after this one.
    public let remaining: Int
    /// Seconds until that limit's burst is whole again.
    public let reset: Double
    /// Seconds until a refused request would be admitted (0 when allowed).
    public let retryAfter: Double
    /// True when the shared store could not be asked and a local fallback decided.
    public let fallback: Bool

    public init(allowed: Bool, limit: RateLimit?, remaining: Int, reset: Double, retryAfter: Double, fallback: Bool = false) {
        self.allowed = allowed
        self.limit = limit
        self.remaining = remaining
        self.reset = reset
        self.retryAfter = retryAfter
        self.fallback = fallback
    }

    public static let unlimited = RateLimitDecision(allowed: true, limit: nil, remaining: .max, reset: 0, retryAfter: 0)

    /// `RateLimit-Policy` (IETF httpapi draft): `"name";q=BURST;w=SECONDS-TO-REFILL`.
    public var policyHeader: String? {
        limit.map { "\"\($0.name)\";q=\($0.burst);w=\(max(1, Int((Double($0.burst) * $0.interval).rounded(.up))))" }
    }

    /// `RateLimit` (IETF httpapi draft): `"name";r=REMAINING;t=SECONDS`.
    public var stateHeader: String? {
        limit.map { "\"\($0.name)\";r=\(max(0, remaining));t=\(max(0, Int((allowed ? reset : retryAfter).rounded(.up))))" }
    }

    /// `Retry-After` in whole seconds (at least 1).
    public var retryAfterHeader: String { String(max(1, Int(retryAfter.rounded(.up)))) }
}
