import Foundation
import Logging
import Metrics

/// A swift-log `LogHandler` that writes one JSON object per line:
/// `ts, level, logger, msg, trace_id, span_id, correlation_id, session_id, tool, duration_ms,
/// outcome`, then the remaining metadata sorted by key. The well-known fields are always present
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
    private let label: String
    private let sink: any LogSink
    private let scrubber: PIIScrubber
    private let lineCounters: LineCounters?

    public init(
        label: String,
        level: Logger.Level = .info,
        sink: any LogSink = StandardErrorSink(),
        scrubber: PIIScrubber = .standard,
        metadataProvider: Logger.MetadataProvider? = TelemetryMetadataProvider.make(),
        metricsFactory: (any MetricsFactory)? = nil
    ) {
        self.label = label
        self.logLevel = level
        self.sink = sink
        self.scrubber = scrubber
        self.metadataProvider = metadataProvider
        self.lineCounters = metricsFactory.map(LineCounters.init)
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadataProvider?.get() ?? [:]
        if !metadata.isEmpty { merged.merge(metadata) { _, new in new } }
        if let extra = event.metadata, !extra.isEmpty { merged.merge(extra) { _, new in new } }

        let scrub: (String, String) -> String = { key, value in scrubber.scrub(value: value, forKey: key) }
        var json = JSONWriter()
        json.beginObject()
        json.field("ts", LogTimestamp.now())
        json.field("level", event.level.rawValue)
        json.field("logger", label)
        json.field("msg", scrubber.scrub(event.message.description))
        for name in Self.wellKnownFields {
            json.key(name)
            if let value = merged[name] {
                if name == "duration_ms", let number = Self.number(value) {
                    json.raw(number)
                } else {
                    json.metadataValue(value, key: name, scrub: scrub)
                }
            } else {
                json.raw("null")
            }
        }
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) where !Self.wellKnownSet.contains(key) {
            json.key(key)
            json.metadataValue(value, key: key, scrub: scrub)
        }
        if event.level >= .error {
            json.field("source", "\(event.source) \(event.file):\(event.line)")
        }
        json.endObject()
        json.bytes.append(UInt8(ascii: "\n"))
        sink.write(json.bytes)
        lineCounters?.increment(event.level)
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

/// RFC 3339 UTC timestamps with milliseconds (`2026-11-25T12:49:08.123Z`).
enum LogTimestamp {
    static func now() -> String {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        var seconds = spec.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let millis = Int(spec.tv_nsec / 1_000_000)
        return String(unsafeUninitializedCapacity: 24) { buffer in
            var index = 0
            func put(_ value: Int, _ width: Int) {
                var divisor = 1
                for _ in 1..<width { divisor *= 10 }
                var v = value
                while divisor > 0 {
                    buffer[index] = UInt8(ascii: "0") + UInt8(v / divisor)
                    v %= divisor
                    divisor /= 10
                    index += 1
                }
            }
            func sep(_ c: Unicode.Scalar) { buffer[index] = UInt8(ascii: c); index += 1 }
            put(Int(parts.tm_year) + 1900, 4); sep("-"); put(Int(parts.tm_mon) + 1, 2); sep("-"); put(Int(parts.tm_mday), 2)
            sep("T"); put(Int(parts.tm_hour), 2); sep(":"); put(Int(parts.tm_min), 2); sep(":"); put(Int(parts.tm_sec), 2)
            sep("."); put(millis, 3); sep("Z")
            return index
        }
    }
}
