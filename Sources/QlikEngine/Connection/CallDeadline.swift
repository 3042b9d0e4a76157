/// The deadline of the tool call the current task works for (a task-local set by the tool
/// runner): every QIX request and every wait for a pooled connection ends by it, and no retry
/// starts after it. Nil: only the client's own timeouts apply.
public enum CallDeadline {
    @TaskLocal public static var current: ContinuousClock.Instant?

    /// `timeout`, shortened to what is left before the deadline (never below zero).
    public static func capped(_ timeout: Duration, now: ContinuousClock.Instant = .now) -> Duration {
        guard let deadline = current else { return timeout }
        return max(.zero, min(timeout, deadline - now))
    }
}
