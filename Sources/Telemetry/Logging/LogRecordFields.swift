import Logging

/// The names of the fields of a log line in each format, and the OpenTelemetry severity of each
/// swift-log level. Attribute keys (`mcp.session.id`, `gen_ai.tool.name`, `error.type`, …) are the
/// same in every format; only the envelope fields differ.
struct LogRecordFields: Sendable {
    let timestamp: String
    let level: String
    let body: String
    let logger: String
    let traceID: String
    let spanID: String
    let instanceID: String
    let file: String
    let line: String
    let function: String

    static func `for`(_ format: LogFormat) -> LogRecordFields {
        switch format {
        case .json, .text:
            return LogRecordFields(
                timestamp: "timestamp", level: "severity_text", body: "body", logger: "otel.scope.name",
                traceID: "trace_id", spanID: "span_id", instanceID: "service.instance.id",
                file: "code.file.path", line: "code.line.number", function: "code.function.name")
        case .ecs:
            return LogRecordFields(
                timestamp: "@timestamp", level: "log.level", body: "message", logger: "log.logger",
                traceID: "trace.id", spanID: "span.id", instanceID: "service.node.name",
                file: "log.origin.file.name", line: "log.origin.file.line", function: "log.origin.function")
        }
    }

    /// OpenTelemetry `SeverityNumber` of a level (TRACE 1, DEBUG 5, INFO 9, INFO2 10, WARN 13, ERROR 17, FATAL 21).
    static func severityNumber(_ level: Logger.Level) -> Int {
        switch level {
        case .trace: 1
        case .debug: 5
        case .info: 9
        case .notice: 10
        case .warning: 13
        case .error: 17
        case .critical: 21
        }
    }

    /// `SeverityText`: the level as swift-log names it, upper case (`INFO`, `WARNING`, …).
    static func severityText(_ level: Logger.Level) -> String {
        switch level {
        case .trace: "TRACE"
        case .debug: "DEBUG"
        case .info: "INFO"
        case .notice: "NOTICE"
        case .warning: "WARNING"
        case .error: "ERROR"
        case .critical: "CRITICAL"
        }
    }
}
