import Foundation
import Synchronization
import Logging
import Metrics

/// A swift-log `LogHandler` that writes one JSON object per line:
/// `ts, level, logger, msg, trace_id, span_id, correlation_id, session_id, tool, duration_ms,
/// outcome`, then the remaining metadata. The well-known fields are always present
/// (null when unknown) so log pipelines can rely on one schema.
///
/// Every message and metadata value passes through the `PIIScrubber` first; values under
/// credential-like keys are replaced whole. Trace and correlation ids come from the metadata
/// provider (see `TelemetryMetadataProvider`), so call sites never pass them by hand.
public struct JSONLogHandler: LogHandler {
    /// Field names with a fixed position in every line.
    public static let wellKnownFields = [
        "trace_id", "span_id", "correlation_id", "session_id", "tool", "duration_ms", "outcome",
    ]
    private static let wellKnownSet = Set(wellKnownFields)

    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    /// Immutable parts shared by every copy of the handler (one reference to copy, not five).
    private let core: Core

    private final class Core: Sendable {
        let label: String
        let sink: any LogSink
        let scrubber: PIIScrubber
        let lineCounters: LineCounters?

        init(label: String, sink: any LogSink, scrubber: PIIScrubber, lineCounters: LineCounters?) {
            self.label = label
            self.sink = sink
            self.scrubber = scrubber
            self.lineCounters = lineCounters
        }
    }

    public init(
        label: String,
        level: Logger.Level = .info,
        sink: any LogSink = StandardErrorSink(),
        scrubber: PIIScrubber = .standard,
        metadataProvider: Logger.MetadataProvider? = TelemetryMetadataProvider.make(),
        metricsFactory: (any MetricsFactory)? = nil
    ) {
        self.logLevel = level
        self.metadataProvider = metadataProvider
        self.core = Core(label: label, sink: sink, scrubber: scrubber, lineCounters: metricsFactory.map(LineCounters.init))
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        // Precedence: call site, then handler, then provider. Later sources only add keys the
        // earlier ones lack; the order of the extra keys in the line is not significant.
        let call = event.metadata ?? [:]
        let handler = metadata
        let provided = metadataProvider?.get() ?? [:]
        let scrubber = core.scrubber

        var json = JSONWriter()
        json.beginObject()
        json.field("ts", LogTimestamp.now())
        json.field("level", event.level.rawValue)
        json.field("logger", core.label)
        json.field("msg", scrubber.scrub(event.message.description))
        for name in Self.wellKnownFields {
            json.key(name)
            if let value = call[name] ?? handler[name] ?? provided[name] {
                if name == "duration_ms", let number = Self.number(value) {
                    json.raw(number)
                } else {
                    json.metadataValue(value, key: name, scrubber: scrubber)
                }
            } else {
                json.raw("null")
            }
        }
        for (key, value) in call where !Self.wellKnownSet.contains(key) {
            json.key(key)
            json.metadataValue(value, key: key, scrubber: scrubber)
        }
        for (key, value) in handler where call[key] == nil && !Self.wellKnownSet.contains(key) {
            json.key(key)
            json.metadataValue(value, key: key, scrubber: scrubber)
        }
        for (key, value) in provided where call[key] == nil && handler[key] == nil && !Self.wellKnownSet.contains(key) {
            json.key(key)
            json.metadataValue(value, key: key, scrubber: scrubber)
        }
        if event.level >= .error {
            json.field("source", "\(event.source) \(event.file):\(event.line)")
        }
        json.endObject()
        json.bytes.append(UInt8(ascii: "\n"))
        core.sink.write(json.bytes)
        core.lineCounters?.increment(event.level)
    }

    private static func number(_ value: Logger.MetadataValue) -> String? {
        let text: String
        switch value {
        case .string(let s): text = s
        case .stringConvertible(let c): text = c.description
        default: return nil
        }
        guard let double = Double(text), double.isFinite else { return nil }
        return text.contains(where: { $0.isLetter }) ? String(double) : text
    }
}

/// `telemetry_log_lines_total{level}` handles, created once per level.
private struct LineCounters: Sendable {
    private let counters: [Logger.Level: Counter]

    init(factory: any MetricsFactory) {
        var counters: [Logger.Level: Counter] = [:]
        for level in Logger.Level.allCases {
            counters[level] = Counter(label: "telemetry_log_lines_total", dimensions: [("level", level.rawValue)], factory: factory)
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
