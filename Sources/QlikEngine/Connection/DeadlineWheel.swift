import Synchronization

/// Request timeouts on one clock (every QIX request and every MCP request over HTTP): a request registers its deadline and removes
/// it when answered. One background task checks the deadlines every `tick` and runs the actions of
/// the expired ones; it ends when none are left and starts again with the next registration.
///
/// Hand-written because the obvious alternative — a task sleeping until each request's deadline,
/// cancelled when the answer comes first — costs a task, a timer and a thread wake-up for every
/// request, which profiled as a visible share of a cached call's CPU. A timeout here fires up to
/// one tick late (50 ms).
public final class DeadlineWheel: Sendable {
    public static let shared = DeadlineWheel(tick: .milliseconds(50))

    private struct Entry {
        let deadline: ContinuousClock.Instant
        let action: @Sendable () async -> Void
    }

    private struct State {
        var entries: [UInt64: Entry] = [:]
        var nextID: UInt64 = 0
        var running = false
    }

    public let tick: Duration
    private let state = Mutex(State())

    public init(tick: Duration) {
        self.tick = tick
    }

    /// Runs `action` once `timeout` has passed, unless cancelled first. Returns the token to cancel with.
    public func schedule(after timeout: Duration, _ action: @escaping @Sendable () async -> Void) -> UInt64 {
        let (id, start) = state.withLock { state -> (UInt64, Bool) in
            state.nextID &+= 1
            state.entries[state.nextID] = Entry(deadline: .now + timeout, action: action)
            defer { state.running = true }
            return (state.nextID, !state.running)
        }
        if start { Task.detached { await self.run() } }
        return id
    }

    public func cancel(_ id: UInt64) {
        state.withLock { _ = $0.entries.removeValue(forKey: id) }
    }

    /// Deadlines registered and not yet fired or cancelled.
    public var pending: Int { state.withLock { $0.entries.count } }

    private func run() async {
        while true {
            try? await Task.sleep(for: tick)
            let now = ContinuousClock.now
            let (due, done) = state.withLock { state -> ([@Sendable () async -> Void], Bool) in
                let expired = state.entries.filter { $0.value.deadline <= now }
                for id in expired.keys { state.entries[id] = nil }
                if state.entries.isEmpty { state.running = false }
                return (expired.values.map(\.action), state.entries.isEmpty)
            }
            for action in due { Task { await action() } }
            if done { return }
        }
    }
}
