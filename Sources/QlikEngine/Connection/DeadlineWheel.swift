import Foundation
import Synchronization

/// Request timeouts on one clock (every QIX request and every MCP request over HTTP): a request
/// registers its deadline and removes it when answered. One thread of its own checks the deadlines
/// every `tick` and runs the actions of the expired ones; it sleeps on a condition while nothing is
/// registered.
///
/// Hand-written because the obvious alternative — a task sleeping until each request's deadline,
/// cancelled when the answer comes first — costs a task, a timer and a thread wake-up for every
/// request, which profiled as a visible share of a cached call's CPU. The thread is its own, not
/// one of Swift's cooperative pool, so timeouts fire on time even when that pool is saturated.
/// A timeout fires up to one tick late (50 ms). Actions run on the wheel's thread: they must be
/// quick and must not block (resume a continuation, or start a task).
public final class DeadlineWheel: @unchecked Sendable {
    public static let shared = DeadlineWheel(tick: .milliseconds(50))

    private struct Entry {
        let deadline: ContinuousClock.Instant
        let action: @Sendable () -> Void
    }

    private struct State {
        var entries: [UInt64: Entry] = [:]
        var nextID: UInt64 = 0
        var started = false
    }

    public let tick: Duration
    // Guarded by `condition` (its lock); `@unchecked Sendable` because of that.
    private var state = State()
    private let condition = NSCondition()

    public init(tick: Duration) {
        self.tick = tick
    }

    /// Runs `action` once `timeout` has passed, unless cancelled first. Returns the token to cancel with.
    public func schedule(after timeout: Duration, _ action: @escaping @Sendable () -> Void) -> UInt64 {
        condition.lock()
        state.nextID &+= 1
        let id = state.nextID
        state.entries[id] = Entry(deadline: .now + timeout, action: action)
        let start = !state.started
        state.started = true
        condition.signal()
        condition.unlock()
        if start {
            let thread = Thread { [self] in run() }
            thread.name = "qlik-mcp-deadlines"
            thread.start()
        }
        return id
    }

    public func cancel(_ id: UInt64) {
        condition.lock()
        state.entries.removeValue(forKey: id)
        condition.unlock()
    }

    /// Deadlines registered and not yet fired or cancelled.
    public var pending: Int {
        condition.lock()
        defer { condition.unlock() }
        return state.entries.count
    }

    private func run() {
        let tickSeconds = Double(tick.components.seconds) + Double(tick.components.attoseconds) / 1e18
        while true {
            condition.lock()
            while state.entries.isEmpty { condition.wait() }
            _ = condition.wait(until: Date().addingTimeInterval(tickSeconds))
            let now = ContinuousClock.now
            let expired = state.entries.filter { $0.value.deadline <= now }
            for id in expired.keys { state.entries[id] = nil }
            condition.unlock()
            for entry in expired.values { entry.action() }
        }
    }
}
