import Prometheus

/// HELP text and histogram buckets for every metric family qlik-mcp exports.
///
/// The Prometheus registry requires one help text per family, and swift-metrics has no place for
/// one, so `QlikMetricsFactory` looks it up here. Families not listed (e.g. from a library) are
/// exported without a HELP line. Keep this table in sync with ARCHITECTURE.md and the dashboards.
public enum MetricCatalog {
    /// Latency buckets from 100 µs to 30 s: fine below 10 ms where the server's own overhead lives,
    /// coarse above a second where only slow engine calls land.
    public static let latencyBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500),
        .milliseconds(1), .microseconds(2500), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30),
    ]

    public static let help: [String: String] = [
        // Telemetry core (this module)
        "build_info": "Build information; the value is always 1.",
        "process_resident_memory_bytes": "Resident memory size in bytes (from /proc/self/stat).",
        "process_virtual_memory_bytes": "Virtual memory size in bytes (from /proc/self/stat).",
        "process_cpu_seconds_total": "Total user and system CPU time spent in seconds.",
        "process_open_fds": "Number of open file descriptors.",
        "process_max_fds": "Maximum number of open file descriptors (RLIMIT_NOFILE soft limit).",
        "process_start_time_seconds": "Start time of the process since the Unix epoch in seconds.",
        "process_threads": "Number of OS threads in the process.",
        "telemetry_spans_dropped_total": "Spans dropped because the export queue was full or the deadline passed at shutdown.",
        "telemetry_spans_exported_total": "Spans accepted by the OTLP collector.",
        "telemetry_export_failures_total": "Span batches that could not be exported, by reason.",
        "telemetry_export_retries_total": "Retried OTLP export attempts.",
        "telemetry_span_queue_length": "Spans waiting in the batch processor queue.",
        "telemetry_log_lines_total": "Log lines written, by level.",
        // MCP server (server host and toolsets)
        "mcp_requests_total": "MCP requests handled, by JSON-RPC method and outcome.",
        "mcp_request_duration_seconds": "MCP request latency in seconds, by method.",
        "mcp_tool_calls_total": "MCP tool calls, by tool, toolset and outcome.",
        "mcp_tool_call_duration_seconds": "MCP tool call latency in seconds, by tool.",
        "mcp_tool_errors_total": "Failed MCP tool calls, by tool and error category (invalid_argument, not_found, engine_unavailable, …).",
        "mcp_sessions_active": "Open MCP sessions, by transport.",
        "mcp_sessions_total": "MCP sessions opened since start, by transport.",
        "mcp_sessions_limit": "Most concurrent MCP HTTP sessions allowed (--max-sessions).",
        "process_memory_limit_bytes": "Memory the process may use: the cgroup limit, or physical memory when there is none.",
        "mcp_sessions_rejected_total": "MCP sessions refused, by transport and reason (limit, draining).",
        "mcp_sessions_expired_total": "MCP sessions closed after being idle too long, by transport.",
        "mcp_notifications_total": "Server-to-client MCP notifications sent, by method.",
        "mcp_sse_events_dropped_total": "Events evicted from a session's bounded resumability store before a client could replay them.",
        "auth_attempts_total": "Credential checks on the MCP endpoints, by method (oauth, apikey, none) and outcome (ok, missing, expired, bad_signature, wrong_audience, revoked, insufficient_scope, …).",
        "http_server_requests_total": "HTTP requests served, by route, method and status code.",
        "http_server_request_duration_seconds": "HTTP request latency in seconds (until the response head), by route.",
        "http_server_active_requests": "HTTP requests in flight.",
        "health_ready": "1 while /readyz reports ready, 0 otherwise.",
        "health_dependency_up": "1 when the background checker last reached the dependency, by dependency.",
        // QIX engine client
        "qix_requests_total": "QIX (Qlik Engine JSON-RPC) requests, by method and outcome.",
        "qix_request_duration_seconds": "QIX request latency in seconds, by method.",
        "qix_connections_active": "Open QIX WebSocket connections.",
        "qix_connection_errors_total": "QIX connection errors, by reason.",
        "qix_pool_idle_connections": "Idle QIX sessions kept in the connection pool.",
        "qix_pool_waiters": "Callers waiting for a QIX connection because the pool is at its limit.",
        "qlik_app_access_total": "Tool calls per Qlik app (top apps; the rest folded into 'other').",
        "cache_requests_total": "Cache lookups, by cache and result (hit/miss).",
    ]

    /// The swift-prometheus descriptor for `name`: the name unchanged, plus its HELP text.
    public static func descriptor(_ name: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help[name] ?? "")
    }

    /// Buckets for a duration histogram family (all use the latency buckets today).
    public static func durationBuckets(for name: String) -> [Duration] { latencyBuckets }
}
