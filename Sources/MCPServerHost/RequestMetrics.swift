import Foundation
import Metrics
import Synchronization

/// Request-level metrics of the MCP host: `mcp_requests_total{method,outcome}`,
/// `mcp_request_duration_seconds{method}`, session gauges and counters per transport.
/// Method labels are bounded to the MCP methods; anything else is `other`.
public final class MCPRequestMetrics: Sendable {
    public static let shared = MCPRequestMetrics()

    static let knownMethods: Set<String> = [
        "initialize", "ping", "tools/list", "tools/call", "resources/list", "resources/templates/list", "resources/read",
        "resources/subscribe", "resources/unsubscribe", "prompts/list", "prompts/get", "completion/complete", "logging/setLevel",
    ]

    private let handles = Mutex<[String: (ok: Counter, error: Counter, timer: Metrics.Timer)]>([:])
    private let sessionGauges = Mutex<[String: (active: Meter, total: Counter)]>([:])

    static func methodLabel(_ method: String) -> String { knownMethods.contains(method) ? method : "other" }

    /// Records one answered request.
    public func record(method: String, ok: Bool, duration: Duration) {
        let entry = handles(Self.methodLabel(method))
        (ok ? entry.ok : entry.error).increment()
        entry.timer.record(duration: duration)
    }

    private func handles(_ label: String) -> (ok: Counter, error: Counter, timer: Metrics.Timer) {
        handles.withLock { cache in
            if let cached = cache[label] { return cached }
            let created = (Counter(label: "mcp_requests_total", dimensions: [("method", label), ("outcome", "ok")]),
                           Counter(label: "mcp_requests_total", dimensions: [("method", label), ("outcome", "error")]),
                           Metrics.Timer(label: "mcp_request_duration_seconds", dimensions: [("method", label)]))
            cache[label] = created
            return created
        }
    }

    private func sessions(_ transport: String) -> (active: Meter, total: Counter) {
        sessionGauges.withLock { cache in
            if let cached = cache[transport] { return cached }
            let created = (Meter(label: "mcp_sessions_active", dimensions: [("transport", transport)]),
                           Counter(label: "mcp_sessions_total", dimensions: [("transport", transport)]))
            cache[transport] = created
            return created
        }
    }

    public func sessionOpened(transport: String) {
        let gauges = sessions(transport)
        gauges.active.increment()
        gauges.total.increment()
    }

    public func sessionClosed(transport: String) {
        sessions(transport).active.decrement()
    }

    public func sessionRejected(transport: String, reason: String) {
        Counter(label: "mcp_sessions_rejected_total", dimensions: [("transport", transport), ("reason", reason)]).increment()
    }

    /// Creates the series that otherwise appear only after their first event, so dashboards and
    /// alerts see zeros instead of gaps from the first scrape.
    public func preregister(transports: [String]) {
        for transport in transports {
            _ = sessions(transport)
            for reason in ["limit", "draining"] {
                Counter(label: "mcp_sessions_rejected_total", dimensions: [("transport", transport), ("reason", reason)]).increment(by: 0)
            }
            Counter(label: "mcp_sessions_expired_total", dimensions: [("transport", transport)]).increment(by: 0)
        }
        Counter(label: "mcp_sse_events_dropped_total").increment(by: 0)
        for method in ["initialize", "tools/list", "tools/call"] { _ = handles(method) }
    }

    public func sessionExpired(transport: String) {
        Counter(label: "mcp_sessions_expired_total", dimensions: [("transport", transport)]).increment()
    }
}
