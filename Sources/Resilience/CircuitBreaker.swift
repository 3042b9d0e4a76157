import Foundation
import Synchronization

/// A circuit breaker: closed (calls pass) → open (calls are rejected at once) when, over a
/// sliding window with a minimum number of calls, the share of failures or of slow calls reaches
/// its threshold → half-open after a cool-down (a few probe calls pass) → closed when the probes
/// succeed, open again when one fails. Keyed by name (`engine:<url>`, `tool:<name>`, later
/// `tenant:<id>`) and grouped by class, whose configuration it takes.
///
/// Hand-written: no Swift package in the available set provides one.
public final class CircuitBreaker: Sendable {
    public enum State: String, Sendable, CaseIterable {
        case closed
        case halfOpen = "half_open"
        case open

        /// The gauge value: 0 closed, 1 half-open, 2 open.
        public var gaugeValue: Int {
            switch self {
            case .closed: 0
            case .halfOpen: 1
            case .open: 2
            }
        }
    }

    /// Thresholds of one breaker class.
    public struct Configuration: Sendable, Equatable {
        /// The sliding window the rates are computed over (1-second buckets).
        public var window: Duration = .seconds(10)
        /// Fewer calls than this in the window never open the breaker.
        public var minimumCalls = 10
        /// Share of failed calls that opens it.
        public var failureRateThreshold = 0.5
        /// A call slower than this counts as slow.
        public var slowCallDuration: Duration = .seconds(5)
        /// Share of slow calls that opens it (above 1: never).
        public var slowCallRateThreshold = 0.8
        /// How long it stays open before letting probes through.
        public var openFor: Duration = .seconds(10)
        /// Probe calls let through while half-open; all must succeed to close.
        public var halfOpenProbes = 3
        /// Whether calls that never reached the dependency (`ErrorVerdict.unreachable`) count as
        /// failures. A per-operation breaker leaves them to the dependency's own breaker, so an
        /// outage does not also open every operation's breaker (each with its own cool-down).
        public var countsUnreachable = true

        public init() {}
    }

    /// How a finished call counts.
    public enum Outcome: Sendable {
        case success
        /// The dependency failed (unreachable, timed out, internal error).
        case failure
        /// Says nothing about the dependency's health (the caller's mistake, a cancellation).
        case ignored
    }

    /// A rejected call: which breaker, since when, and when to come back.
    public struct Rejection: Error, Sendable, CustomStringConvertible {
        public let breaker: String
        public let breakerClass: String
        public let state: State
        /// Wall-clock time the breaker opened.
        public let since: Date
        public let retryAfter: Duration

        public var description: String {
            "circuit breaker \(breaker) is \(state.rawValue) since \(since.formatted(.iso8601)); retry in \(retryAfter)"
        }
    }

    /// A call let through; give it back with `record`.
    public struct Permit: Sendable {
        let probe: Bool
        let started: ContinuousClock.Instant
    }

    private struct Bucket {
        var second: Int64 = .min
        var calls = 0
        var failures = 0
        var slow = 0
    }

    private struct Inner {
        var state: State = .closed
        var since = ContinuousClock.now
        var sinceWall = Date()
        var buckets: [Bucket]
        var probesInFlight = 0
        var probeSuccesses = 0
    }

    public let name: String
    public let breakerClass: String
    public let configuration: Configuration
    private let inner: Mutex<Inner>
    private let origin = ContinuousClock.now
    private let onTransition: @Sendable (_ breaker: CircuitBreaker, _ from: State, _ to: State) -> Void

    public init(
        name: String, breakerClass: String, configuration: Configuration = Configuration(),
        onTransition: @escaping @Sendable (_ breaker: CircuitBreaker, _ from: State, _ to: State) -> Void = { _, _, _ in }
    ) {
        self.name = name
        self.breakerClass = breakerClass
        self.configuration = configuration
        self.onTransition = onTransition
        let seconds = max(1, Int(configuration.window.components.seconds))
        self.inner = Mutex(Inner(buckets: Array(repeating: Bucket(), count: seconds)))
    }

    public var state: State { inner.withLock { $0.state } }

    /// Lets a call through, or throws `Rejection` in microseconds while open (or while half-open
    /// with all probes out).
    public func acquire(now: ContinuousClock.Instant = .now) throws(Rejection) -> Permit {
        var transition: (State, State)?
        let result: Result<Permit, Rejection> = inner.withLock { inner in
            switch inner.state {
            case .closed:
                return .success(Permit(probe: false, started: now))
            case .open:
                let reopens = inner.since + configuration.openFor
                guard now >= reopens else { return .failure(rejection(inner, retryAfter: reopens - now)) }
                transition = (.open, .halfOpen)
                enter(.halfOpen, &inner, now: now)
                inner.probesInFlight = 1
                return .success(Permit(probe: true, started: now))
            case .halfOpen:
                guard inner.probesInFlight + inner.probeSuccesses < configuration.halfOpenProbes else {
                    return .failure(rejection(inner, retryAfter: .milliseconds(100)))
                }
                inner.probesInFlight += 1
                return .success(Permit(probe: true, started: now))
            }
        }
        if let (from, to) = transition { onTransition(self, from, to) }
        return try result.get()
    }

    /// The rejection an `acquire` would give now while the breaker is open and cooling down; nil
    /// otherwise. Takes no permit and changes nothing (for checks that must not use up probes).
    public func rejectsNow(now: ContinuousClock.Instant = .now) -> Rejection? {
        inner.withLock { inner in
            guard inner.state == .open else { return nil }
            let reopens = inner.since + configuration.openFor
            return now < reopens ? rejection(inner, retryAfter: reopens - now) : nil
        }
    }

    /// Records how a call let through by `acquire` ended.
    public func record(_ permit: Permit, _ outcome: Outcome, now: ContinuousClock.Instant = .now) {
        let slow = now - permit.started >= configuration.slowCallDuration
        var transition: (State, State)?
        inner.withLock { inner in
            switch inner.state {
            case .halfOpen where permit.probe:
                inner.probesInFlight = max(0, inner.probesInFlight - 1)
                if outcome == .failure {
                    transition = (.halfOpen, .open)
                    enter(.open, &inner, now: now)
                } else {
                    inner.probeSuccesses += 1
                    if inner.probeSuccesses >= configuration.halfOpenProbes {
                        transition = (.halfOpen, .closed)
                        enter(.closed, &inner, now: now)
                    }
                }
            case .closed:
                guard outcome != .ignored else { return }
                count(&inner, failed: outcome == .failure, slow: slow, now: now)
                let (calls, failures, slowCalls) = totals(inner, now: now)
                guard calls >= configuration.minimumCalls else { return }
                if Double(failures) / Double(calls) >= configuration.failureRateThreshold
                    || Double(slowCalls) / Double(calls) >= configuration.slowCallRateThreshold
                {
                    transition = (.closed, .open)
                    enter(.open, &inner, now: now)
                }
            default:
                break  // a call admitted while closed that ends after the breaker opened: nothing to learn
            }
        }
        if let (from, to) = transition { onTransition(self, from, to) }
    }

    /// The failure and slow-call counts over the window (for /healthz).
    public func snapshot(now: ContinuousClock.Instant = .now) -> (state: State, since: Date, calls: Int, failures: Int, slow: Int) {
        inner.withLock { inner in
            let (calls, failures, slow) = totals(inner, now: now)
            return (inner.state, inner.sinceWall, calls, failures, slow)
        }
    }

    private func second(_ instant: ContinuousClock.Instant) -> Int64 { (instant - origin).components.seconds }

    private func count(_ inner: inout Inner, failed: Bool, slow: Bool, now: ContinuousClock.Instant) {
        let second = second(now)
        let index = Int(second % Int64(inner.buckets.count))
        if inner.buckets[index].second != second { inner.buckets[index] = Bucket(second: second) }
        inner.buckets[index].calls += 1
        if failed { inner.buckets[index].failures += 1 }
        if slow { inner.buckets[index].slow += 1 }
    }

    private func totals(_ inner: Inner, now: ContinuousClock.Instant) -> (Int, Int, Int) {
        let current = second(now)
        let oldest = current - Int64(inner.buckets.count) + 1
        var totals = (0, 0, 0)
        for bucket in inner.buckets where bucket.second >= oldest && bucket.second <= current {
            totals.0 += bucket.calls
            totals.1 += bucket.failures
            totals.2 += bucket.slow
        }
        return totals
    }

    private func enter(_ state: State, _ inner: inout Inner, now: ContinuousClock.Instant) {
        inner.state = state
        inner.since = now
        inner.sinceWall = Date()
        inner.probesInFlight = 0
        inner.probeSuccesses = 0
        if state == .closed { inner.buckets = Array(repeating: Bucket(), count: inner.buckets.count) }
    }

    private func rejection(_ inner: Inner, retryAfter: Duration) -> Rejection {
        Rejection(breaker: name, breakerClass: breakerClass, state: inner.state, since: inner.sinceWall, retryAfter: retryAfter)
    }
}
