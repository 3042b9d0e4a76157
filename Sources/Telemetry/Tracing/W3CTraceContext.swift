/// W3C Trace Context (`traceparent` / `tracestate`) parsing and formatting.
///
/// Follows https://www.w3.org/TR/trace-context/: version `ff` is invalid; version `00` must be
/// exactly 55 characters; a higher version may append fields after a `-`, which are ignored;
/// all-zero ids are invalid; hex must be lowercase. `tracestate` is passed through when it has at
/// most 32 list members and 512 characters, and dropped otherwise (as the spec allows).
public enum W3CTraceContext {
    public static let traceparentHeader = "traceparent"
    public static let tracestateHeader = "tracestate"

    /// Parses a `traceparent` value (and optional `tracestate`) into a remote span context.
    public static func parse(traceparent: String, tracestate: String? = nil) -> SpanContext? {
        let value = traceparent.trimmingASCIIWhitespace()
        let utf8 = Array(value.utf8)
        guard utf8.count >= 55,
              utf8[2] == UInt8(ascii: "-"), utf8[35] == UInt8(ascii: "-"), utf8[52] == UInt8(ascii: "-"),
              let version = HexCoding.parse(utf8[0..<2]), version != 0xFF else { return nil }
        if version == 0 {
            guard utf8.count == 55 else { return nil }
        } else if utf8.count > 55 {
            guard utf8[55] == UInt8(ascii: "-") else { return nil }
        }
        let text = String(decoding: utf8, as: UTF8.self)
        let start = text.utf8.index(text.startIndex, offsetBy: 3)
        guard let traceID = TraceID(hex: text[start..<text.utf8.index(start, offsetBy: 32)]),
              let spanID = SpanID(hex: String(decoding: utf8[36..<52], as: UTF8.self)),
              let flags = HexCoding.parse(utf8[53..<55]) else { return nil }
        return SpanContext(
            traceID: traceID,
            spanID: spanID,
            traceFlags: UInt8(flags),
            traceState: tracestate.flatMap(validTraceState),
            isRemote: true
        )
    }

    /// Formats a `traceparent` value (version 00).
    public static func traceparent(for context: SpanContext) -> String {
        "00-\(context.traceID)-\(context.spanID)-\(HexCoding.hexByte(context.traceFlags))"
    }

    static func validTraceState(_ raw: String) -> String? {
        let trimmed = raw.trimmingASCIIWhitespace()
        guard !trimmed.isEmpty, trimmed.utf8.count <= 512 else { return nil }
        let members = trimmed.split(separator: ",", omittingEmptySubsequences: true)
        guard members.count <= 32, members.allSatisfy({ $0.contains("=") }) else { return nil }
        return trimmed
    }
}

extension String {
    func trimmingASCIIWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }) else { return "" }
        let last = lastIndex(where: { !isSpace($0) })!
        return String(self[first...last])
    }
}
