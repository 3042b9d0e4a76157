import Metrics
import Telemetry

/// The limits' metrics (labels bounded: a limit's name, never a principal or an IP):
/// `qlik_mcp_rate_limited_total{limit,scope}`, `qlik_mcp_rate_limited_principals_total` (a
/// principal counted once per 5 minutes in which it was refused — many of them means limits hit
/// many users, not one runaway loop), `qlik_mcp_rate_limit_fallback_total` (decisions made locally
/// because Redis could not be asked), `qlik_mcp_concurrency_limit{target}`,
/// `qlik_mcp_load_shed_total{reason}`.
public final class LimitMetrics: Sendable {
    private let refusedPrincipals = OncePerWindow(window: .seconds(300))
    private let principals = Counter(label: "qlik_mcp_rate_limited_principals_total")
    private let fallbacks = Counter(label: "qlik_mcp_rate_limit_fallback_total")
    private let counters = CounterSet()

    public init() {}

    /// Creates the series that exist from the start (rates need a zero).
    public func prepare(scopes: [String], toolLimits: [String] = []) {
        principals.increment(by: 0)
        fallbacks.increment(by: 0)
        for reason in ["queue_full", "queue_timeout"] { counter("qlik_mcp_load_shed_total", [("reason", reason)]).increment(by: 0) }
        for scope in scopes where scope != "tool" { counter("qlik_mcp_rate_limited_total", [("limit", scope), ("scope", scope)]).increment(by: 0) }
        for tool in toolLimits { counter("qlik_mcp_rate_limited_total", [("limit", "tool:" + tool), ("scope", "tool")]).increment(by: 0) }
    }

    public func limited(limit: String, scope: String, principal: String) {
        counter("qlik_mcp_rate_limited_total", [("limit", limit), ("scope", scope)]).increment()
        if refusedPrincipals.first(principal) { principals.increment() }
    }

    public func fallback() { fallbacks.increment() }

    public func shed(reason: String) { counter("qlik_mcp_load_shed_total", [("reason", reason)]).increment() }

    /// The gauge of the concurrency limit toward `target` (create it once, record on changes).
    public func concurrencyLimitGauge(target: String) -> Gauge {
        Gauge(label: "qlik_mcp_concurrency_limit", dimensions: [("target", target)])
    }

    private func counter(_ label: String, _ dimensions: [(String, String)]) -> Counter { counters.counter(label, dimensions) }
}
