/// When and how often a failed call is tried again: exponential backoff with full jitter (a random
/// delay between zero and the exponential cap, so clients that failed together do not retry
/// together), a cap on attempts, and never past the call's deadline.
public struct RetryPolicy: Sendable, Equatable {
    /// Attempts in total, the first included (1: no retry).
    public var maxAttempts = 3
    public var baseDelay: Duration = .milliseconds(50)
    public var maxDelay: Duration = .seconds(2)

    public init(maxAttempts: Int = 3, baseDelay: Duration = .milliseconds(50), maxDelay: Duration = .seconds(2)) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// The delay before retry number `retry` (1 for the first retry): uniform in
    /// 0 … min(maxDelay, baseDelay × 2^(retry−1)).
    public func delay(beforeRetry retry: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        let exponent = min(max(retry - 1, 0), 30)
        let cap = min(maxDelay, baseDelay * (1 << exponent))
        let nanoseconds = cap.components.seconds * 1_000_000_000 + cap.components.attoseconds / 1_000_000_000
        guard nanoseconds > 0 else { return .zero }
        return .nanoseconds(Int64.random(in: 0...nanoseconds, using: &generator))
    }

    public func delay(beforeRetry retry: Int) -> Duration {
        var generator = SystemRandomNumberGenerator()
        return delay(beforeRetry: retry, using: &generator)
    }
}
