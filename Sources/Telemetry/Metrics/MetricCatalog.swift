import Prometheus

/// HELP text and histogram buckets for every metric family qlik-mcp exports.
///
/// The Prometheus registry requires one help text per family, and swift-metrics has no place for
/// one, so `QlikMetricsFactory` looks it up here. Families not listed (e.g. from a library) are
/// exported without a HELP line. Keep this table in sync with ARCHITECTURE.md and the dashboards.
public enum MetricCatalog {
    /// Latency buckets from 100 µs to 300 s: fine below 10 ms where the server's own overhead lives,
    /// coarse above a second where only slow engine calls land, up to the longest a request may
    /// run (`--request-timeout` defaults to 300 s, and reloads run that long).
    public static let latencyBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500),
        .milliseconds(1), .microseconds(2500), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(120), .seconds(300),
    ]

    /// Session lifetimes: one second to a day.
    public static let sessionBuckets: [Duration] = [
        .seconds(1), .seconds(10), .seconds(60), .seconds(300), .seconds(900), .seconds(1_800), .seconds(3_600),
        .seconds(7_200), .seconds(14_400), .seconds(28_800), .seconds(86_400),
    ]

    public static let help: [String: String] = [
        // Telemetry core (this module)
        "qlik_mcp_build_info": "Build information; the value is always 1.",
        "process_resident_memory_bytes": "Resident memory size in bytes (from /proc/self/stat).",
        "process_virtual_memory_bytes": "Virtual memory size in bytes (from /proc/self/stat).",
        "process_cpu_seconds_total": "Total user and system CPU time spent in seconds.",
        "process_open_fds": "Number of open file descriptors.",
        "process_max_fds": "Maximum number of open file descriptors (RLIMIT_NOFILE soft limit).",
        "process_start_time_seconds": "Start time of the process since the Unix epoch in seconds.",
        "process_threads": "Number of OS threads in the process.",
        "qlik_mcp_telemetry_spans_dropped_total": "Spans dropped because the export queue was full or the deadline passed at shutdown.",
        "qlik_mcp_telemetry_spans_exported_total": "Spans accepted by the OTLP collector.",
        "qlik_mcp_telemetry_export_failures_total": "Batches of spans or log records that could not be exported, by signal and reason.",
        "qlik_mcp_telemetry_export_retries_total": "Retried OTLP export attempts, by signal.",
        "qlik_mcp_telemetry_span_queue_length": "Spans waiting in the batch processor queue.",
        "qlik_mcp_telemetry_log_records_dropped_total": "Log records not exported over OTLP because the export queue was full or the deadline passed at shutdown.",
        "qlik_mcp_telemetry_log_records_exported_total": "Log records accepted by the OTLP collector.",
        "qlik_mcp_telemetry_log_record_queue_length": "Log records waiting for OTLP export.",
        "qlik_mcp_log_lines_total": "Log lines written, by level.",
        // MCP server (server host and toolsets)
        "mcp_server_operation_duration_seconds": "MCP request duration in seconds (OpenTelemetry mcp.server.operation.duration), by method, tool, error type, transport and protocol version.",
        "mcp_server_session_duration_seconds": "MCP session duration in seconds (OpenTelemetry mcp.server.session.duration), by transport and protocol version.",
        "qlik_mcp_tool_calls_total": "MCP tool calls, by tool, toolset and outcome.",
        "qlik_mcp_tool_errors_total": "Failed MCP tool calls, by tool and error category (invalid_argument, not_found, engine_unavailable, …).",
        "qlik_mcp_sessions_active": "Open MCP sessions, by transport.",
        "qlik_mcp_sessions_total": "MCP sessions opened since start, by transport.",
        "qlik_mcp_sessions_limit": "Most concurrent MCP HTTP sessions allowed (--max-sessions).",
        "process_memory_limit_bytes": "Memory the process may use: the cgroup limit, or physical memory when there is none.",
        "qlik_mcp_sessions_rejected_total": "MCP sessions refused, by transport and reason (limit, draining).",
        "qlik_mcp_sessions_expired_total": "MCP sessions closed after being idle too long, by transport.",
        "qlik_mcp_notifications_total": "Server-to-client MCP notifications sent, by method.",
        "qlik_mcp_sse_events_dropped_total": "Events evicted from a session's bounded resumability store before a client could replay them.",
        "qlik_mcp_auth_attempts_total":
            "Credential checks on the MCP endpoints, by method (oauth, apikey, none) and outcome (ok, missing, expired, bad_signature, wrong_audience, revoked, insufficient_scope, …).",
        "http_server_request_duration_seconds": "HTTP request duration in seconds until the response head (OpenTelemetry http.server.request.duration), by method, route and status code.",
        "http_server_active_requests": "HTTP requests in flight (OpenTelemetry http.server.active_requests), by method.",
        "qlik_mcp_health_ready": "1 while /readyz reports ready, 0 otherwise.",
        "qlik_mcp_health_dependency_up": "1 when the background checker last reached the dependency (qlik_engine, redis), by dependency.",
        // Shared state (--state redis)
        "qlik_mcp_redis_commands_total": "Redis round trips, by command (Lua scripts by name) and outcome (ok, timeout, server_error, connection_closed, unavailable, …).",
        "qlik_mcp_redis_command_duration_seconds": "Redis round-trip latency in seconds, by command (Lua scripts by name).",
        "qlik_mcp_redis_pool_connections": "Open connections of the Redis pool.",
        "qlik_mcp_redis_pool_waiters": "Callers waiting for a Redis connection because the pool is at its limit.",
        // QIX engine client
        "qix_requests_total": "QIX (Qlik Engine JSON-RPC) requests, by method and outcome.",
        "qix_request_duration_seconds": "QIX request latency in seconds, by method.",
        "qix_connections_active": "Open QIX WebSocket connections.",
        "qix_connection_errors_total": "QIX connection errors, by reason.",
        "qix_pool_idle_connections": "Idle QIX sessions kept in the connection pool.",
        "qix_pool_waiters": "Callers waiting for a QIX connection because the pool is at its limit.",
        "qlik_app_access_total": "Tool calls per Qlik app (top apps; the rest folded into 'other').",
        // Resilience
        "qlik_mcp_circuit_breaker_state": "Circuit breaker state by breaker and class: 0 closed, 1 half-open, 2 open.",
        "qlik_mcp_circuit_breaker_transitions_total": "Circuit breaker state changes, by breaker, from and to.",
        "qlik_mcp_circuit_breaker_rejections_total": "Calls rejected at once because a circuit breaker was open, by breaker.",
        "qlik_mcp_retries_total": "Retried attempts of idempotent tool calls, by operation (tool) and outcome of the attempt (succeeded, failed).",
        "qlik_mcp_retry_budget_exhausted_total": "Retries refused because the engine's retry budget was spent (the call failed with its last error).",
        "qlik_mcp_dlq_depth": "Failed reloads and writes kept in the dead-letter queue.",
        "qlik_mcp_dlq_entries_total": "Operations kept as dead letters, by operation (tool) and reason (error category).",
        // Limits
        "qlik_mcp_rate_limited_total": "Calls refused by a rate limit, by limit (principal, tool:<name>, tenant, ip) and scope.",
        "qlik_mcp_rate_limited_principals_total": "Principals refused by a rate limit, each counted once per 5 minutes in which it was refused.",
        "qlik_mcp_rate_limit_fallback_total": "Rate limit decisions made in this process because Redis could not be asked (each replica admits its share).",
        "qlik_mcp_concurrency_limit": "The adaptive limit on concurrent calls to a target (engine), following its latency.",
        "qlik_mcp_load_shed_total": "Calls shed as overloaded instead of queued on a saturated engine, by reason (queue_full, queue_timeout).",
        // Tool cache
        "qlik_mcp_cache_requests_total": "Cache lookups, by cache (class: metadata, master_items, data; or field_names), tier (l1, l2; none for bypasses) and result (hit, miss, stale, bypass).",
        "qlik_mcp_cache_evictions_total": "Entries that left the in-process cache, by cache class, tier and reason (capacity, expired, invalidated, flushed).",
        "qlik_mcp_cache_entries": "Entries in the cache, by tier.",
        "qlik_mcp_cache_bytes": "Bytes held by the cache (encoded answers), by tier.",
        "qlik_mcp_cache_max_bytes": "The cache's byte bound, by tier.",
        "qlik_mcp_cache_singleflight_waiters": "Calls waiting for an identical call's engine answer (single-flight).",
        "qlik_mcp_cache_singleflight_coalesced_total": "Calls answered by an identical call's engine answer instead of an engine call of their own.",
        "qlik_mcp_cache_l2_errors_total": "Failed operations on the shared (Redis) cache tier, by operation; the calls went on without it.",
        "qlik_mcp_cache_invalidations_total":
            "Cache invalidations, by reason (write: a reload or write through qlik-mcp, flush: flush_cache or qlik-mcp cache flush, version: a reload seen in the app listing).",
        "qlik_mcp_cache_warm_calls_total": "Tool calls made to warm the cache at start-up, by outcome.",
    ]

    /// The swift-prometheus descriptor for `name`: the name unchanged, plus its HELP text.
    public static func descriptor(_ name: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help[name] ?? "")
    }

    /// Buckets for a duration histogram family.
    public static func durationBuckets(for name: String) -> [Duration] {
        name == "mcp_server_session_duration_seconds" ? sessionBuckets : latencyBuckets
    }
}
