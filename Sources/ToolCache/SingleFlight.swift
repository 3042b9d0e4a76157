import Synchronization

/// Collapses concurrent work for the same key into one run: the first caller starts it, the
/// others wait for its result (100 concurrent misses of one key cost one engine call). The work
/// runs in its own task (inheriting the first caller's task-local context, its span), so a caller
/// that is cancelled returns at once without failing the others; the work still completes and its
/// result still reaches whoever waits.
private enum FlightStart { case cancelled, joined, started }

final class SingleFlight<Value: Sendable>: Sendable {
    private struct Flight {
        var waiters: [UInt64: CheckedContinuation<Value?, Never>] = [:]
    }

    private struct State {
        var flights: [String: Flight] = [:]
        var nextID: UInt64 = 0
        var joinedWaiting = 0
    }

    private let state = Mutex(State())

    /// Callers currently waiting on a run they did not start.
    var waiting: Int { state.withLock { $0.joinedWaiting } }

    /// Runs `work` for `key`, or joins the run in progress. Nil when the caller was cancelled
    /// while waiting. `joined` is true for callers that did not start the run.
    func run(_ key: String, _ work: @escaping @Sendable () async -> Value) async -> (value: Value, joined: Bool)? {
        let id = state.withLock { state -> UInt64 in
            state.nextID &+= 1
            return state.nextID
        }
        let joined = Mutex(false)
        let value: Value? = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Value?, Never>) in
                let start = state.withLock { state -> FlightStart in
                    if Task.isCancelled { return .cancelled }
                    if state.flights[key] != nil {
                        state.flights[key]!.waiters[id] = continuation
                        state.joinedWaiting += 1
                        return .joined
                    }
                    state.flights[key] = Flight(waiters: [id: continuation])
                    return .started
                }
                switch start {
                case .cancelled: continuation.resume(returning: nil)
                case .joined: joined.withLock { $0 = true }
                case .started: Task { self.finish(key, with: await work()) }
                }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Value?, Never>? in
                let removed = state.flights[key]?.waiters.removeValue(forKey: id)
                return removed
            }
            waiter?.resume(returning: nil)
        }
        let didJoin = joined.withLock { $0 }
        if didJoin { state.withLock { $0.joinedWaiting -= 1 } }
        return value.map { ($0, didJoin) }
    }

    private func finish(_ key: String, with value: Value) {
        let waiters = state.withLock { $0.flights.removeValue(forKey: key)?.waiters ?? [:] }
        for waiter in waiters.values { waiter.resume(returning: value) }
    }
}
