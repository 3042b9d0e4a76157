import Foundation

/// Backoff for OTLP export retries: exponential with full jitter, capped, and overridden by a
/// server's `Retry-After` (seconds or HTTP-date) when present.
struct RetryPolicy: Sendable {
    var initialBackoff: Duration
    var maxBackoff: Duration
    /// A `Retry-After` longer than this is clamped, so a misbehaving collector cannot park the worker.
    var maxRetryAfter: Duration = .seconds(60)

    static let retryableStatuses: Set<Int> = [429, 502, 503, 504]

    /// Delay before attempt `attempt` (1-based count of attempts already made).
    func delay(afterAttempt attempt: Int, retryAfter: String?, now: Date = Date()) -> Duration {
        if let retryAfter, let explicit = Self.parseRetryAfter(retryAfter, now: now) {
            return min(explicit, maxRetryAfter)
        }
        let exponent = min(attempt - 1, 20)
        let ceiling = min(maxBackoff, initialBackoff * (1 << exponent))
        let jittered = Double.random(in: 0.5...1.0) * ceiling.seconds
        return .milliseconds(Int(jittered * 1000))
    }

    /// `Retry-After: <seconds>` or `Retry-After: <HTTP-date>`.
    static func parseRetryAfter(_ value: String, now: Date) -> Duration? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Int(trimmed), seconds >= 0 { return .seconds(seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: trimmed) else { return nil }
        let interval = max(0, date.timeIntervalSince(now))
        return .milliseconds(Int(interval * 1000))
    }
}
