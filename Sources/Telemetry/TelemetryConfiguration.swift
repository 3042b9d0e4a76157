import Foundation
import Logging

/// Everything the telemetry core can be told, read from flags and the environment:
/// `QLIK_MCP_LOG_LEVEL`, `QLIK_MCP_LOG_FORMAT`, `QLIK_MCP_SCRUB_DISABLE`, `QLIK_MCP_SCRUB_EXTRA_RULES`,
/// `QLIK_MCP_TRACE_BUFFER`, the `OTEL_*` variables for sampling, batching and export of spans and log records.
public struct TelemetryConfiguration: Sendable {
    public var logLevel: Logger.Level = .info
    public var logFormat: LogFormat = .json
    public var disabledScrubRules: Set<String> = []
    /// Extra scrub rules as kind → regular expression (they run after the built-in ones).
    public var extraScrubRules: [String: String] = [:]
    public var sampler: Sampler = .parentBased(root: .alwaysOn)
    public var batch = BatchSpanProcessor.Configuration()
    public var exporter: OTLPExporterConfiguration?
    /// OTLP export of log records (`OTEL_LOGS_EXPORTER=otlp`); nil: stderr only.
    public var logExporter: OTLPExporterConfiguration?
    /// Batching of exported log records (`OTEL_BLRP_*`).
    public var logBatch = BatchExportConfiguration(scheduledDelay: .seconds(1))
    public var resource: TelemetryResource
    /// Spans kept for `/debug/traces`.
    public var traceBufferCapacity = 1024
    /// `OTEL_SDK_DISABLED=true`: no spans are recorded (ids still propagate).
    public var tracingDisabled = false

    public init(resource: TelemetryResource = TelemetryResource(attributes: ["service.name": "qlik-mcp"])) {
        self.resource = resource
    }

    /// Reads the environment; `logLevel` (from a flag) wins over `QLIK_MCP_LOG_LEVEL`.
    public static func fromEnvironment(
        _ env: [String: String] = ProcessInfo.processInfo.environment,
        logLevel: String? = nil,
        logFormat: String? = nil
    ) throws -> TelemetryConfiguration {
        var config = TelemetryConfiguration(resource: try TelemetryResource.fromEnvironment(env))
        if let level = logLevel ?? env["QLIK_MCP_LOG_LEVEL"], !level.isEmpty {
            do { config.logLevel = try Logger.Level.parse(level) } catch {
                throw TelemetryConfigurationError.invalid(
                    variable: logLevel != nil ? "--log-level" : "QLIK_MCP_LOG_LEVEL", value: level,
                    expected: Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))
            }
        }
        if let format = logFormat ?? env["QLIK_MCP_LOG_FORMAT"], !format.isEmpty {
            config.logFormat = try LogFormat.parse(format, variable: logFormat != nil ? "--log-format" : "QLIK_MCP_LOG_FORMAT")
        }
        if let raw = env["QLIK_MCP_SCRUB_DISABLE"], !raw.isEmpty {
            config.disabledScrubRules = Set(raw.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        }
        if let raw = env["QLIK_MCP_SCRUB_EXTRA_RULES"], !raw.isEmpty {
            guard let object = try? JSONSerialization.jsonObject(with: Data(raw.utf8)) as? [String: String] else {
                throw TelemetryConfigurationError.invalid(
                    variable: "QLIK_MCP_SCRUB_EXTRA_RULES", value: raw,
                    expected: #"a JSON object of kind to regular expression, e.g. {"employee_id":"EMP-\\d{6}"}"#)
            }
            config.extraScrubRules = object
        }
        config.sampler = try Sampler.fromEnvironment(env)
        config.exporter = try OTLPExporterConfiguration.fromEnvironment(env, signal: .traces)
        config.logExporter = try OTLPExporterConfiguration.fromEnvironment(env, signal: .logs)
        config.logBatch = BatchExportConfiguration(
            maxQueueSize: try positive(env, "OTEL_BLRP_MAX_QUEUE_SIZE") ?? 2048,
            maxExportBatchSize: try positive(env, "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE") ?? 512,
            scheduledDelay: .milliseconds(try positive(env, "OTEL_BLRP_SCHEDULE_DELAY") ?? 1000),
            exportTimeout: .milliseconds(try positive(env, "OTEL_BLRP_EXPORT_TIMEOUT") ?? 30000))
        config.tracingDisabled = env["OTEL_SDK_DISABLED"]?.lowercased() == "true"
        config.batch = BatchSpanProcessor.Configuration(
            maxQueueSize: try positive(env, "OTEL_BSP_MAX_QUEUE_SIZE") ?? 2048,
            maxExportBatchSize: try positive(env, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE") ?? 512,
            scheduledDelay: .milliseconds(try positive(env, "OTEL_BSP_SCHEDULE_DELAY") ?? 5000),
            exportTimeout: .milliseconds(try positive(env, "OTEL_BSP_EXPORT_TIMEOUT") ?? 30000))
        config.traceBufferCapacity = try positive(env, "QLIK_MCP_TRACE_BUFFER") ?? 1024
        return config
    }

    /// Builds the scrubber this configuration describes.
    public func makeScrubber() throws -> PIIScrubber {
        let extra = try extraScrubRules.sorted(by: { $0.key < $1.key }).map { try ScrubRule(kind: $0.key, pattern: $0.value) }
        return try PIIScrubber(disabled: disabledScrubRules, extra: extra)
    }

    private static func positive(_ env: [String: String], _ name: String) throws -> Int? {
        guard let raw = env[name], !raw.isEmpty else { return nil }
        guard let value = Int(raw), value > 0 else {
            throw TelemetryConfigurationError.invalid(variable: name, value: raw, expected: "a positive integer")
        }
        return value
    }
}
