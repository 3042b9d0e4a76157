import Foundation
import Metrics
import Synchronization

/// Request- and session-level metrics of the MCP host, in the OpenTelemetry MCP semantic
/// conventions (`mcp.server.operation.duration`, `mcp.server.session.duration`, exported to
/// Prometheus as `mcp_server_operation_duration_seconds` and `mcp_server_session_duration_seconds`),
/// plus qlik-mcp's own session gauges and counters (`qlik_mcp_sessions_*`).
///
/// Every label is bounded: methods outside the MCP set are `other`, tool names outside the
/// registry are `other` (decided by the caller), error types are JSON-RPC codes the server can
/// produce or `tool_error`, protocol versions come from the supported list.
public final class MCPRequestMetrics: Sendable {
    public static let shared = MCPRequestMetrics()

    static let knownMethods: Set<String> = [
        "initialize", "ping", "tools/list", "tools/call", "resources/list", "resources/templates/list", "resources/read",
        "resources/subscribe", "resources/unsubscribe", "prompts/list", "prompts/get", "completion/complete", "logging/setLevel",
    ]

    /// JSON-RPC error codes the server produces; any other code counts as `other`.
    static let knownErrorCodes: Set<String> = ["-32700", "-32600", "-32601", "-32602", "-32603", "-32001", "-32002", "-32000"]

    /// The label set of one operation series (a struct key: no string built per request).
    private struct OperationKey: Hashable {
        let method: String
        let tool: String?
        let errorType: String?
        let transport: String
        let protocolVersion: String
    }

    private let operations = Mutex<[OperationKey: Metrics.Timer]>([:])
    private let sessionGauges = Mutex<[String: (active: Meter, total: Counter)]>([:])
    private let sessionDurations = Mutex<[String: Metrics.Timer]>([:])

    static func methodLabel(_ method: String) -> String { knownMethods.contains(method) ? method : "other" }

    /// `error_type` for a JSON-RPC error code.
    static func errorType(code: Int) -> String {
        let text = String(code)
        return knownErrorCodes.contains(text) ? text : "other"
    }

    /// One answered request: `mcp_server_operation_duration_seconds`. `tool` only for `tools/call`;
    /// `errorType` nil on success, a JSON-RPC code on an error response, `tool_error` for a tool
    /// result with `isError`.
    public func record(method: String, tool: String?, errorType: String?, transport: String, protocolVersion: String, duration: Duration) {
        operation(method: method, tool: tool, errorType: errorType, transport: transport, protocolVersion: protocolVersion).record(duration: duration)
    }

    private func operation(method: String, tool: String?, errorType: String?, transport: String, protocolVersion: String) -> Metrics.Timer {
        let method = Self.methodLabel(method)
        let key = OperationKey(method: method, tool: tool, errorType: errorType, transport: transport, protocolVersion: protocolVersion)
        return operations.withLock { cache in
            if let timer = cache[key] { return timer }
            var dimensions = [("mcp_method_name", method)]
            if let tool { dimensions.append(("gen_ai_tool_name", tool)) }
            if let errorType { dimensions.append(("error_type", errorType)) }
            dimensions += [("network_transport", transport), ("mcp_protocol_version", protocolVersion)]
            let timer = Metrics.Timer(label: "mcp_server_operation_duration_seconds", dimensions: dimensions)
            cache[key] = timer
            return timer
        }
    }

    /// A session ended after `duration`: `mcp_server_session_duration_seconds`.
    public func recordSession(transport: String, protocolVersion: String, duration: Duration) {
        sessionDuration(transport: transport, protocolVersion: protocolVersion).record(duration: duration)
    }

    private func sessionDuration(transport: String, protocolVersion: String) -> Metrics.Timer {
        let key = "\(transport)|\(protocolVersion)"
        return sessionDurations.withLock { cache in
            if let timer = cache[key] { return timer }
            let timer = Metrics.Timer(
                label: "mcp_server_session_duration_seconds",
                dimensions: [("network_transport", transport), ("mcp_protocol_version", protocolVersion)])
            cache[key] = timer
            return timer
        }
    }

    private func sessions(_ transport: String) -> (active: Meter, total: Counter) {
        sessionGauges.withLock { cache in
            if let cached = cache[transport] { return cached }
            let created = (
                Meter(label: "qlik_mcp_sessions_active", dimensions: [("transport", transport)]),
                Counter(label: "qlik_mcp_sessions_total", dimensions: [("transport", transport)])
            )
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
        Counter(label: "qlik_mcp_sessions_rejected_total", dimensions: [("transport", transport), ("reason", reason)]).increment()
    }

    /// Creates the series that otherwise appear only after their first event, so dashboards and
    /// alerts see zeros instead of gaps from the first scrape.
    public func preregister(transports: [String], protocolVersion: String) {
        for method in ["initialize", "tools/list", "tools/call"] {
            _ = operation(method: method, tool: nil, errorType: nil, transport: "tcp", protocolVersion: protocolVersion)
        }
        _ = sessionDuration(transport: "tcp", protocolVersion: protocolVersion)
        for transport in transports {
            _ = sessions(transport)
            for reason in ["limit", "draining"] {
                Counter(label: "qlik_mcp_sessions_rejected_total", dimensions: [("transport", transport), ("reason", reason)]).increment(by: 0)
            }
            Counter(label: "qlik_mcp_sessions_expired_total", dimensions: [("transport", transport)]).increment(by: 0)
        }
        Counter(label: "qlik_mcp_sse_events_dropped_total").increment(by: 0)
    }

    public func sessionExpired(transport: String) {
        Counter(label: "qlik_mcp_sessions_expired_total", dimensions: [("transport", transport)]).increment()
    }
}
