import Foundation
import Logging
import Metrics
import ServiceContextModule
import Synchronization

/// A swift-log `LogHandler` that writes one line per event in the configured `LogFormat`.
///
/// The JSON schema (the default) follows the OpenTelemetry log data model, flattened:
/// `timestamp`, `severity_text`, `severity_number`, `body`, `otel.scope.name` (the logger),
/// `service.name`, `service.version`, `service.instance.id`, then `trace_id`/`span_id` when a
/// span is active, then the attributes (call site, then handler, then metadata provider — the
/// first source wins), then `code.file.path`/`code.line.number`/`code.function.name` for errors.
/// Absent fields are omitted, never `null`. Integers, floating-point numbers and booleans passed
/// as `.stringConvertible` are written as JSON numbers and booleans.
///
/// Every message and string value passes through the `PIIScrubber` first; values under
/// credential-like keys are replaced whole. Trace ids, the MCP session and the tool come from the
/// metadata provider (see `TelemetryMetadataProvider`), so call sites never pass them by hand.
public struct StructuredLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    /// Immutable parts shared by every copy of the handler (one reference to copy, not five).
    private let core: Core

    private final class Core: Sendable {
        let label: String
        let format: LogFormat
        let fields: LogRecordFields
        let sink: any LogSink
        let scrubber: PIIScrubber
        let lineCounters: LineCounters?
        /// `service.*` fields, encoded once.
        let service: [(String, String)]
        /// Where log records go for OTLP export (`OTEL_LOGS_EXPORTER=otlp`), besides the sink.
        let export: BatchExportQueue<LogRecordData>?

        init(
            label: String, format: LogFormat, service: [(String, String)], sink: any LogSink, scrubber: PIIScrubber, lineCounters: LineCounters?,
            export: BatchExportQueue<LogRecordData>?
        ) {
            self.export = export
            self.label = label
            self.format = format
            self.fields = .for(format)
            self.service = service
            self.sink = sink
            self.scrubber = scrubber
            self.lineCounters = lineCounters
        }
    }

    /// - Parameter resource: where `service.name`, `service.version` and `service.instance.id` come from.
    public init(
        label: String,
        level: Logger.Level = .info,
        format: LogFormat = .json,
        resource: TelemetryResource? = nil,
        sink: any LogSink = StandardErrorSink(),
        scrubber: PIIScrubber = .standard,
        metadataProvider: Logger.MetadataProvider? = TelemetryMetadataProvider.make(),
        metricsFactory: (any MetricsFactory)? = nil,
        export: BatchExportQueue<LogRecordData>? = nil
    ) {
        self.logLevel = level
        self.metadataProvider = metadataProvider
        let resource = resource ?? TelemetryResource(attributes: ["service.name": "qlik-mcp", "service.version": QlikMCPVersion.current])
        let fields = LogRecordFields.for(format)
        var service = [("service.name", resource.serviceName), ("service.version", resource.serviceVersion)]
        if let instance = resource.attributes["service.instance.id"] { service.append((fields.instanceID, instance)) }
        self.core = Core(
            label: label, format: format, service: service, sink: sink, scrubber: scrubber,
            lineCounters: metricsFactory.map(LineCounters.init), export: export)
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let core = self.core
        let call = event.metadata ?? [:]
        let handler = metadata
        let provided = metadataProvider?.get() ?? [:]
        var attributes: [(String, Logger.MetadataValue)] = []
        attributes.reserveCapacity(call.count + handler.count + provided.count)
        for (key, value) in call { attributes.append((key, value)) }
        for (key, value) in handler where call[key] == nil { attributes.append((key, value)) }
        for (key, value) in provided where call[key] == nil && handler[key] == nil { attributes.append((key, value)) }
        // trace_id/span_id come first (after the service fields) under the format's names.
        let traceID = Self.take("trace_id", from: &attributes)
        let spanID = Self.take("span_id", from: &attributes)
        let body = core.scrubber.scrub(event.message.description)
        var line: [UInt8]
        switch core.format {
        case .json, .ecs:
            line = json(event, body: body, traceID: traceID, spanID: spanID, attributes: attributes)
        case .text:
            line = text(event, body: body, traceID: traceID, attributes: attributes)
        }
        line.append(UInt8(ascii: "\n"))
        core.sink.write(line, urgent: event.level >= .error)
        core.lineCounters?.increment(event.level)
        if let export = core.export {
            let span = ServiceContext.current?.spanContext
            var spec = timespec()
            clock_gettime(CLOCK_REALTIME, &spec)
            export.enqueue(
                LogRecordData(
                    timeUnixNano: UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec),
                    severityNumber: LogRecordFields.severityNumber(event.level), severityText: LogRecordFields.severityText(event.level),
                    body: body, scope: core.label, attributes: LogRecordData.attributes(attributes, scrubber: core.scrubber),
                    traceID: span?.traceID, spanID: span?.spanID))
        }
    }

    private func json(
        _ event: LogEvent, body: String, traceID: Logger.MetadataValue?, spanID: Logger.MetadataValue?,
        attributes: [(String, Logger.MetadataValue)]
    ) -> [UInt8] {
        let core = self.core
        let fields = core.fields
        var json = JSONWriter()
        json.beginObject()
        json.field(fields.timestamp, LogTimestamp.now())
        if core.format == .ecs {
            json.field(fields.level, event.level.rawValue)
        } else {
            json.field(fields.level, LogRecordFields.severityText(event.level))
            json.key("severity_number")
            json.raw(String(LogRecordFields.severityNumber(event.level)))
        }
        json.field(fields.body, body)
        json.field(fields.logger, core.label)
        for (key, value) in core.service { json.field(key, value) }
        if core.format == .ecs { json.field("ecs.version", "8.11.0") }
        // Generated hex ids, never scrubbed: a run of digits in one can look like a card number.
        if case .string(let traceID)? = traceID { json.field(fields.traceID, traceID) }
        if case .string(let spanID)? = spanID { json.field(fields.spanID, spanID) }
        for (key, value) in attributes {
            json.key(key)
            json.metadataValue(value, key: key, scrubber: core.scrubber)
        }
        if event.level >= .error {
            json.field(fields.file, event.file)
            json.key(fields.line)
            json.raw(String(event.line))
            json.field(fields.function, event.function)
        }
        json.endObject()
        return json.bytes
    }

    private func text(_ event: LogEvent, body: String, traceID: Logger.MetadataValue?, attributes: [(String, Logger.MetadataValue)]) -> [UInt8] {
        let core = self.core
        var out =
            LogTimestamp.now() + " " + LogRecordFields.severityText(event.level).padding(toLength: 8, withPad: " ", startingAt: 0)
            + core.label + ": " + body
        for (key, value) in attributes.sorted(by: { $0.0 < $1.0 }) {
            out += " " + key + "=" + Self.textValue(value, key: key, scrubber: core.scrubber)
        }
        if case .string(let traceID)? = traceID { out += " trace_id=" + traceID }
        if event.level >= .error { out += " (\(event.file):\(event.line))" }
        return Array(out.utf8)
    }

    private static func textValue(_ value: Logger.MetadataValue, key: String, scrubber: PIIScrubber) -> String {
        var json = JSONWriter(capacity: 64)
        json.metadataValue(value, key: key, scrubber: scrubber)
        let encoded = String(decoding: json.bytes, as: UTF8.self)
        // Plain words stay unquoted; anything with spaces, quotes or escapes keeps its JSON quoting.
        if encoded.hasPrefix("\""), !encoded.dropFirst().dropLast().contains(where: { $0 == " " || $0 == "\"" || $0 == "\\" || $0 == "=" }) {
            return String(encoded.dropFirst().dropLast())
        }
        return encoded
    }

    private static func take(_ key: String, from attributes: inout [(String, Logger.MetadataValue)]) -> Logger.MetadataValue? {
        guard let index = attributes.firstIndex(where: { $0.0 == key }) else { return nil }
        return attributes.remove(at: index).1
    }
}

/// `qlik_mcp_log_lines_total{level}` handles, created once per level.
private struct LineCounters: Sendable {
    private let counters: [Logger.Level: Counter]

    init(factory: any MetricsFactory) {
        var counters: [Logger.Level: Counter] = [:]
        for level in Logger.Level.allCases {
            counters[level] = Counter(label: "qlik_mcp_log_lines_total", dimensions: [("level", level.rawValue)], factory: factory)
        }
        self.counters = counters
    }

    func increment(_ level: Logger.Level) { counters[level]?.increment() }
}

/// RFC 3339 UTC timestamps with milliseconds (`2026-11-25T12:49:08.123Z`). The date-and-time part
/// is formatted once per second and cached; only the milliseconds change between lines.
enum LogTimestamp {
    private static let cache = Mutex<(second: Int, prefix: String)>((-1, ""))

    static func now() -> String {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        let second = spec.tv_sec
        let millis = Int(spec.tv_nsec / 1_000_000)
        let prefix = cache.withLock { cached -> String in
            if cached.second == second { return cached.prefix }
            let formatted = format(second)
            cached = (second, formatted)
            return formatted
        }
        let digits = (UInt8(ascii: "0") + UInt8(millis / 100), UInt8(ascii: "0") + UInt8(millis / 10 % 10), UInt8(ascii: "0") + UInt8(millis % 10))
        return prefix + String(decoding: [digits.0, digits.1, digits.2, UInt8(ascii: "Z")], as: UTF8.self)
    }

    /// `YYYY-MM-DDTHH:MM:SS.` for a Unix second.
    private static func format(_ second: Int) -> String {
        var seconds = second
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))."
    }
}
