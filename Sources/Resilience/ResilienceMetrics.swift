import Metrics
import Synchronization
import Telemetry

/// The resilience metrics, handles cached by label set: `qlik_mcp_circuit_breaker_state{breaker,class}`
/// (0 closed, 1 half-open, 2 open), `qlik_mcp_circuit_breaker_transitions_total{breaker,from,to}`,
/// `qlik_mcp_circuit_breaker_rejections_total{breaker}`, `qlik_mcp_retries_total{operation,outcome}`
/// (outcome of the retried attempt: succeeded, failed), `qlik_mcp_retry_budget_exhausted_total`.
public final class ResilienceMetrics: Sendable {
    private let counters = CounterSet()
    private let gauges = Mutex<[String: Gauge]>([:])
    private let exhausted = Counter(label: "qlik_mcp_retry_budget_exhausted_total")
    private let depth = Gauge(label: "qlik_mcp_dlq_depth")

    public init() {}

    @discardableResult
    private func counter(_ label: String, _ dimensions: [(String, String)]) -> Counter {
        counters.counter(label, dimensions)
    }

    /// A breaker exists (its state series starts at closed).
    public func register(_ breaker: CircuitBreaker) {
        state(breaker, breaker.state)
        counter("qlik_mcp_circuit_breaker_rejections_total", [("breaker", breaker.name)])
            .increment(by: 0)
    }

    public func state(_ breaker: CircuitBreaker, _ state: CircuitBreaker.State) {
        let key = breaker.name
        let gauge = gauges.withLock { gauges in
            if let cached = gauges[key] { return cached }
            let created = Gauge(label: "qlik_mcp_circuit_breaker_state", dimensions: [("breaker", breaker.name), ("class", breaker.breakerClass)])
            gauges[key] = created
            return created
        }
        gauge.record(state.gaugeValue)
    }

    public func transition(_ breaker: CircuitBreaker, from: CircuitBreaker.State, to: CircuitBreaker.State) {
        counter("qlik_mcp_circuit_breaker_transitions_total", [("breaker", breaker.name), ("from", from.rawValue), ("to", to.rawValue)]).increment()
        state(breaker, to)
    }

    public func rejected(_ rejection: CircuitBreaker.Rejection) {
        counter("qlik_mcp_circuit_breaker_rejections_total", [("breaker", rejection.breaker)]).increment()
    }

    public func retried(_ operation: String, outcome: String, count: Int = 1) {
        counter("qlik_mcp_retries_total", [("operation", operation), ("outcome", outcome)]).increment(by: count)
    }

    public func budgetExhausted() { exhausted.increment() }

    /// A failed operation was kept; the queue now holds `depth` letters.
    public func deadLettered(_ operation: String, reason: String, depth count: Int) {
        counter("qlik_mcp_dlq_entries_total", [("operation", operation), ("reason", reason)]).increment()
        depth.record(count)
    }

    /// Creates the dead-letter series of `operation` at zero, one per reason.
    public func prepareDeadLetters(_ operation: String, reasons: [String]) {
        for reason in reasons { counter("qlik_mcp_dlq_entries_total", [("operation", operation), ("reason", reason)]).increment(by: 0) }
    }

    /// The queue holds `count` letters (after a retry or drop, and at start).
    public func deadLetterDepth(_ count: Int) { depth.record(count) }
}
