import Synchronization
import Telemetry

/// A limit on concurrent calls to a dependency (the engine) that follows its latency — AIMD:
/// while the recent latency stays near the lowest seen lately (the baseline), the limit grows by
/// about one per round of calls (additive increase); when it climbs above `tolerance` × baseline
/// plus `slack`, or calls time out, the limit shrinks by `backoff` at most once per observed
/// latency (multiplicative decrease). AIMD rather than a gradient limiter: two numbers to reason
/// about, and it cannot oscillate into a limit of zero.
///
/// Calls over the limit wait in a bounded queue, interactive calls before heavy ones before
/// background ones; a call that waited `maxWait`, or finds the queue full, is shed (`Shed`) —
/// when the engine slows, callers get a quick "come back" instead of piling up timeouts.
public final class AdaptiveConcurrencyLimiter: Sendable {
    public struct Configuration: Sendable, Equatable {
        public var initialLimit = 32.0
        public var minLimit = 2.0
        public var maxLimit = 256.0
        /// A recent latency above baseline × tolerance + slack means the engine is queueing.
        public var tolerance = 2.0
        public var slack: Duration = .milliseconds(25)
        /// The multiplicative decrease.
        public var backoff = 0.9
        /// How long the lowest latency stays the baseline (it then drifts to what is normal now).
        public var baselineWindow: Duration = .seconds(30)
        public var maxQueue = 1_000
        public var maxWait: Duration = .milliseconds(250)

        public init() {}
    }

    /// Who goes first when calls queue.
    public enum Priority: Int, Sendable, CaseIterable {
        /// Metadata an assistant waits on (lists, definitions).
        case interactive
        /// Data: hypercubes, expressions.
        case heavy
        /// Reloads and writes.
        case background
    }

    /// A call refused because the dependency is saturated.
    public struct Shed: Error, Sendable, Equatable, CustomStringConvertible {
        /// `queue_full` or `queue_timeout`.
        public let reason: String
        /// Seconds after which trying again is reasonable.
        public let retryAfter: Double
        public var description: String { "overloaded (\(reason)): try again in \(retryAfter) s" }
    }

    /// How a finished call went, for the limit.
    public enum Outcome: Sendable {
        /// It finished (successfully or with the dependency's answer) in this time.
        case completed(Duration)
        /// It timed out or the dependency could not take it: a congestion signal.
        case overloaded
        /// It says nothing about the dependency (a cancellation, the caller's mistake).
        case ignored
    }

    private struct Waiter {
        let id: Int
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var limit: Double
        var inFlight = 0
        var queues: [[Waiter]] = Array(repeating: [], count: Priority.allCases.count)
        var queued = 0
        var nextID = 0
        var recent: Double?
        var baselineCurrent = Double.infinity
        var baselinePrevious = Double.infinity
        var bucketStart: ContinuousClock.Instant
        var lastDecrease: ContinuousClock.Instant
    }

    public let configuration: Configuration
    private let state: Mutex<State>
    private let onLimit: @Sendable (Double) -> Void

    /// `onLimit` hears every change of the limit in whole calls (for a gauge).
    public init(configuration: Configuration = Configuration(), onLimit: @escaping @Sendable (Double) -> Void = { _ in }) {
        self.configuration = configuration
        let now = ContinuousClock.now
        self.state = Mutex(State(limit: configuration.initialLimit, bucketStart: now, lastDecrease: now))
        self.onLimit = onLimit
        onLimit(configuration.initialLimit)
    }

    /// The current limit (whole calls).
    public var limit: Int { state.withLock { Int($0.limit) } }
    public var inFlight: Int { state.withLock { $0.inFlight } }
    public var queued: Int { state.withLock { $0.queued } }

    /// Runs `body` within the limit (waiting in the queue for up to `maxWait`), feeding its
    /// latency back. Throws `Shed` when the call cannot get a slot.
    public func run<T: Sendable>(
        priority: Priority, classify: (any Error) -> Outcome = { _ in .ignored }, _ body: () async throws -> T
    ) async throws -> T {
        try await acquire(priority)
        let start = ContinuousClock.now
        do {
            let value = try await body()
            release(.completed(ContinuousClock.now - start))
            return value
        } catch {
            let outcome = classify(error)
            if case .completed = outcome { release(.completed(ContinuousClock.now - start)) } else { release(outcome) }
            throw error
        }
    }

    /// Takes a slot, queueing when there is none.
    public func acquire(_ priority: Priority) async throws {
        let immediate: Int? = try state.withLock { state in
            if state.queued == 0, state.inFlight < Int(state.limit) {
                state.inFlight += 1
                return nil
            }
            guard state.queued < configuration.maxQueue else { throw Shed(reason: "queue_full", retryAfter: retryAfter(state)) }
            state.nextID += 1
            return state.nextID
        }
        guard let id = immediate else { return }
        let maxWait = configuration.maxWait
        let timer = Task { [weak self] in
            try? await Task.sleep(for: maxWait)
            self?.expire(id, reason: "queue_timeout")
        }
        defer { timer.cancel() }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                state.withLock { state in
                    state.queues[priority.rawValue].append(Waiter(id: id, continuation: continuation))
                    state.queued += 1
                }
                if Task.isCancelled { expire(id, error: CancellationError()) }
            }
        } onCancel: {
            expire(id, error: CancellationError())
        }
    }

    /// Gives a slot back with what the call showed about the dependency.
    public func release(_ outcome: Outcome) {
        let now = ContinuousClock.now
        var granted: [Waiter] = []
        var changed: Double?
        state.withLock { state in
            let before = state.limit
            adjust(&state, outcome, now: now)
            if Int(state.limit) != Int(before) { changed = state.limit }  // a gauge of whole calls
            state.inFlight -= 1
            while state.inFlight < Int(state.limit), let waiter = Self.popFirst(&state) {
                state.inFlight += 1
                granted.append(waiter)
            }
        }
        if let changed { onLimit(changed) }
        for waiter in granted { waiter.continuation.resume() }
    }

    private func adjust(_ state: inout State, _ outcome: Outcome, now: ContinuousClock.Instant) {
        let congested: Bool
        switch outcome {
        case .ignored: return
        case .overloaded:
            congested = true
        case .completed(let duration):
            let sample = max(0, duration.seconds)
            if now - state.bucketStart > configuration.baselineWindow / 2 {
                state.baselinePrevious = state.baselineCurrent
                state.baselineCurrent = .infinity
                state.bucketStart = now
            }
            state.baselineCurrent = min(state.baselineCurrent, sample)
            let recent = state.recent.map { $0 * 0.8 + sample * 0.2 } ?? sample
            state.recent = recent
            let baseline = min(state.baselineCurrent, state.baselinePrevious)
            congested = recent > baseline * configuration.tolerance + configuration.slack.seconds
        }
        if congested {
            let spacing = Duration.milliseconds(Int64(max(10, (state.recent ?? 0) * 1000)))
            guard now - state.lastDecrease >= spacing else { return }
            state.limit = max(configuration.minLimit, state.limit * configuration.backoff)
            state.lastDecrease = now
        } else if Double(state.inFlight) >= state.limit * 0.75 {
            state.limit = min(configuration.maxLimit, state.limit + 1 / state.limit)
        }
    }

    private static func popFirst(_ state: inout State) -> Waiter? {
        for index in state.queues.indices where !state.queues[index].isEmpty {
            state.queued -= 1
            return state.queues[index].removeFirst()
        }
        return nil
    }

    private func expire(_ id: Int, reason: String) {
        let retry = state.withLock { retryAfter($0) }
        expire(id, error: Shed(reason: reason, retryAfter: retry))
    }

    private func expire(_ id: Int, error: any Error) {
        let waiter: Waiter? = state.withLock { state in
            for index in state.queues.indices {
                if let position = state.queues[index].firstIndex(where: { $0.id == id }) {
                    state.queued -= 1
                    return state.queues[index].remove(at: position)
                }
            }
            return nil
        }
        waiter?.continuation.resume(throwing: error)
    }

    /// About how long the queue ahead takes to drain at the recent latency (at least 1 s).
    private func retryAfter(_ state: State) -> Double {
        let perCall = state.recent ?? 0.1
        return max(1, (Double(state.queued + 1) * perCall / max(1, state.limit)).rounded(.up))
    }
}
