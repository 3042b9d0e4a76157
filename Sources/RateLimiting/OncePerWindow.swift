import Synchronization

/// Says yes to a key at most once per `window` (a bounded memory of when each key was last let
/// through): for log lines and counters that must not repeat per principal.
public final class OncePerWindow: Sendable {
    public let window: Duration
    public let maxKeys: Int
    private let seen = Mutex<[String: ContinuousClock.Instant]>([:])

    public init(window: Duration, maxKeys: Int = 10_000) {
        self.window = window
        self.maxKeys = max(1, maxKeys)
    }

    /// True when `key` was not let through within the window (and now is).
    public func first(_ key: String, now: ContinuousClock.Instant = .now) -> Bool {
        let window = self.window
        return seen.withLock { seen in
            if let last = seen[key], now - last < window { return false }
            if seen.count >= maxKeys { seen = seen.filter { now - $0.value < window } }
            guard seen.count < maxKeys else { return false }  // still full of fresh keys: stay quiet
            seen[key] = now
            return true
        }
    }
}
