/// How log lines are written (`--log-format`, `QLIK_MCP_LOG_FORMAT`).
///
/// - `json`: one JSON object per line, field names from the OpenTelemetry log data model and
///   semantic conventions (`timestamp`, `severity_text`, `severity_number`, `body`,
///   `otel.scope.name`, `service.*`, `trace_id`, `span_id`, then attributes such as
///   `mcp.session.id`, `gen_ai.tool.name`, `error.type`). The default.
/// - `ecs`: one JSON object per line in Elastic Common Schema names (`@timestamp`, `log.level`,
///   `message`, `log.logger`, `service.*`, `trace.id`, `span.id`, `ecs.version`).
/// - `text`: one human-readable line (`time LEVEL logger: message key=value …`), for a terminal.
public enum LogFormat: String, Sendable, CaseIterable {
    case json
    case ecs
    case text

    /// Parses `json`, `ecs` or `text` (case-insensitive).
    public static func parse(_ text: String, variable: String) throws -> LogFormat {
        guard let format = LogFormat(rawValue: text.lowercased()) else {
            throw TelemetryConfigurationError.invalid(variable: variable, value: text, expected: allCases.map(\.rawValue).joined(separator: ", "))
        }
        return format
    }
}
