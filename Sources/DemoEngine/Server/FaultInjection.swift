import Foundation
import Synchronization
import Telemetry

/// Faults the demo engine can inject, for resilience tests. Changeable while the engine runs.
public struct FaultInjection: Sendable, Equatable {
    /// Added before every response.
    public var latency: Duration = .zero
    /// Extra random latency, uniformly 0…jitter.
    public var jitter: Duration = .zero
    /// Share of requests (0…1) answered with an injected `LOCERR_GENERIC_INTERNAL_ERROR`.
    public var errorRate: Double = 0
    /// Methods the error rate applies to; empty means every method.
    public var errorMethods: Set<String> = []
    /// Close each connection (without answering) when it receives this many messages.
    public var dropAfterMessages: Int?
    /// Refuse new WebSocket connections (HTTP 503).
    public var refuseConnections = false
    /// Refuse the next this many WebSocket connections, then accept (counted down as refused).
    public var refuseNextConnections = 0
    /// Read every request and never answer (an overloaded or half-dead engine).
    public var hang = false
    /// The next this many requests of `errorMethods` (every method when empty) fail, then none
    /// (deterministic transient errors; counted down as they fail).
    public var failNext = 0

    public init(
        latency: Duration = .zero, jitter: Duration = .zero, errorRate: Double = 0, errorMethods: Set<String> = [],
        dropAfterMessages: Int? = nil, refuseConnections: Bool = false
    ) {
        self.latency = latency
        self.jitter = jitter
        self.errorRate = errorRate
        self.errorMethods = errorMethods
        self.dropAfterMessages = dropAfterMessages
        self.refuseConnections = refuseConnections
    }

    /// The delay to add before one response.
    func delay() -> Duration {
        guard jitter > .zero else { return latency }
        return latency + .milliseconds(Int64(Double.random(in: 0...1) * jitter.seconds * 1000))
    }

    /// True when this call of `method` should fail.
    func shouldFail(_ method: String) -> Bool {
        guard errorRate > 0, errorMethods.isEmpty || errorMethods.contains(method) else { return false }
        return Double.random(in: 0..<1) < errorRate
    }
}

/// Holds the current faults; the server reads it per message.
public final class FaultController: Sendable {
    private let state: Mutex<FaultInjection>

    public init(_ faults: FaultInjection = FaultInjection()) {
        state = Mutex(faults)
    }

    public var current: FaultInjection {
        get { state.withLock { $0 } }
        set { state.withLock { $0 = newValue } }
    }

    public func update(_ change: (inout FaultInjection) -> Void) {
        state.withLock { change(&$0) }
    }

    /// True when a new connection should be refused (`refuseNextConnections` counts down).
    public func refusesConnection() -> Bool {
        state.withLock { faults in
            if faults.refuseConnections { return true }
            guard faults.refuseNextConnections > 0 else { return false }
            faults.refuseNextConnections -= 1
            return true
        }
    }

    /// True when this request of `method` should fail (`failNext` first, then the error rate).
    public func shouldFail(_ method: String) -> Bool {
        state.withLock { faults in
            if faults.failNext > 0, faults.errorMethods.isEmpty || faults.errorMethods.contains(method) {
                faults.failNext -= 1
                return true
            }
            return faults.shouldFail(method)
        }
    }
}
