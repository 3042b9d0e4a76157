import Tracing

/// A finished span: everything the exporter and the debug ring buffer need, as a value.
public struct SpanRecord: Sendable {
    public let context: SpanContext
    public let parentSpanID: SpanID?
    public var name: String
    public let kind: SpanKind
    public let startNanos: UInt64
    public let endNanos: UInt64
    public var attributes: SpanAttributes
    public var events: [SpanEvent]
    public var links: [Link]
    public let status: SpanStatus?

    /// A link to another span, resolved to its span context.
    public struct Link: Sendable {
        public let context: SpanContext
        public var attributes: SpanAttributes
    }

    /// Duration in seconds.
    public var durationSeconds: Double { Double(endNanos &- startNanos) / 1e9 }

    /// This span with every string attribute, event attribute, link attribute and status message
    /// passed through `scrubber` (credential-named keys lose their whole value).
    public func scrubbed(with scrubber: PIIScrubber) -> SpanRecord {
        var copy = self
        copy.attributes = Self.scrub(attributes, scrubber)
        copy.events = events.map { event in
            var event = event
            event.attributes = Self.scrub(event.attributes, scrubber)
            return event
        }
        copy.links = links.map { Link(context: $0.context, attributes: Self.scrub($0.attributes, scrubber)) }
        copy.name = scrubber.scrub(name)
        if let status, let message = status.message {
            return copy.with(status: SpanStatus(code: status.code, message: scrubber.scrub(message)))
        }
        return copy
    }

    private func with(status: SpanStatus) -> SpanRecord {
        SpanRecord(
            context: context, parentSpanID: parentSpanID, name: name, kind: kind, startNanos: startNanos,
            endNanos: endNanos, attributes: attributes, events: events, links: links, status: status)
    }

    static func scrub(_ attributes: SpanAttributes, _ scrubber: PIIScrubber) -> SpanAttributes {
        var result = SpanAttributes()
        attributes.forEach { key, value in
            result[key] = PIIScrubber.serverProducedKeys.contains(key) ? value : scrub(value, key: key, scrubber)
        }
        return result
    }

    private static func scrub(_ value: SpanAttribute, key: String, _ scrubber: PIIScrubber) -> SpanAttribute {
        if let kind = PIIScrubber.sensitiveKeyKind(key) {
            return .string("[REDACTED:\(kind)]")
        }
        switch value {
        case .string(let text):
            return .string(scrubber.scrub(text))
        case .stringArray(let texts):
            return .stringArray(texts.map(scrubber.scrub))
        case .stringConvertible(let convertible):
            return .string(scrubber.scrub(convertible.description))
        case .stringConvertibleArray(let convertibles):
            return .stringArray(convertibles.map { scrubber.scrub($0.description) })
        default:
            return value
        }
    }
}
