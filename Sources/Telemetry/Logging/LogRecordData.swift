import Logging
import Tracing

/// One log line as an OpenTelemetry log record, for OTLP export (`OTEL_LOGS_EXPORTER=otlp`):
/// the same scrubbed body and attributes the line on stderr has, typed.
public struct LogRecordData: Sendable {
    public var timeUnixNano: UInt64
    public var severityNumber: Int
    public var severityText: String
    public var body: String
    /// The logger's label: the record's instrumentation scope.
    public var scope: String
    public var attributes: SpanAttributes
    public var traceID: TraceID?
    public var spanID: SpanID?

    /// Converts swift-log metadata into attributes: strings scrubbed, numbers and booleans typed,
    /// arrays and dictionaries as their scrubbed JSON text.
    static func attributes(_ metadata: [(String, Logger.MetadataValue)], scrubber: PIIScrubber) -> SpanAttributes {
        var attributes = SpanAttributes()
        for (key, value) in metadata {
            switch value {
            case .string(let text):
                attributes[key] = SpanAttribute.string(scrubber.scrub(value: text, forKey: key))
            case .stringConvertible(let convertible):
                switch convertible {
                case let bool as Bool: attributes[key] = SpanAttribute.bool(bool)
                case let int as Int: attributes[key] = SpanAttribute.int64(Int64(int))
                case let double as Double: attributes[key] = SpanAttribute.double(double)
                default:
                    if let number = JSONWriter.number(convertible), let int = Int64(number) {
                        attributes[key] = SpanAttribute.int64(int)
                    } else {
                        attributes[key] = SpanAttribute.string(scrubber.scrub(value: convertible.description, forKey: key))
                    }
                }
            case .array, .dictionary:
                var json = JSONWriter(capacity: 128)
                json.metadataValue(value, key: key, scrubber: scrubber)
                attributes[key] = SpanAttribute.string(String(decoding: json.bytes, as: UTF8.self))
            }
        }
        return attributes
    }
}
