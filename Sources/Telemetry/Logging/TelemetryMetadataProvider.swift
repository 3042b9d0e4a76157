import Logging
import ServiceContextModule

/// A swift-log metadata provider that adds the ids of the current task's `ServiceContext`:
/// `trace_id` and `span_id` of the active span, `mcp.session.id` and `gen_ai.tool.name` (the names
/// the spans use, so a log line and its span join on the same keys).
public enum TelemetryMetadataProvider {
    public static func make() -> Logger.MetadataProvider {
        Logger.MetadataProvider {
            guard let context = ServiceContext.current else { return [:] }
            var metadata: Logger.Metadata = [:]
            if let span = context.spanContext {
                metadata["trace_id"] = .string(span.traceID.description)
                metadata["span_id"] = .string(span.spanID.description)
            }
            if let session = context.mcpSessionID { metadata[SemanticAttributes.mcpSessionID] = .string(session) }
            if let tool = context.toolName { metadata[SemanticAttributes.genAIToolName] = .string(tool) }
            return metadata
        }
    }
}

extension Logger.Level {
    /// Parses a level name as used by `--log-level` and `QLIK_MCP_LOG_LEVEL` (case-insensitive;
    /// `warn` is accepted for `warning`).
    public static func parse(_ text: String) throws -> Logger.Level {
        let lowered = text.lowercased()
        if lowered == "warn" { return .warning }
        guard let level = Logger.Level(rawValue: lowered) else {
            throw TelemetryConfigurationError.invalid(
                variable: "log level", value: text,
                expected: Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return level
    }
}
