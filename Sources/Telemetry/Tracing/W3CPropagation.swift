import W3CTraceContext

/// W3C Trace Context (`traceparent` / `tracestate`) for the tracer: parsing by the
/// swift-w3c-trace-context package, plus what it leaves to its callers.
///
/// The package accepts version `00` only; the specification asks a version-00 parser to read a
/// higher version (not `ff`) by its first 55 characters when they are followed by the end or a
/// `-`, so those are parsed as version `00` here. Surrounding spaces and tabs are ignored.
/// `tracestate` is passed through when it has at most 32 list members and 512 characters and the
/// package can read it, and dropped otherwise (as the specification allows).
public enum W3CPropagation {
    public static let traceparentHeader = "traceparent"
    public static let tracestateHeader = "tracestate"

    /// Parses a `traceparent` value (and optional `tracestate`) into a remote span context.
    public static func parse(traceparent: String, tracestate: String? = nil) -> SpanContext? {
        var value = Array(traceparent.trimmingASCIIWhitespace().utf8)
        guard value.count >= 55 else { return nil }
        if value[0] != UInt8(ascii: "0") || value[1] != UInt8(ascii: "0") {
            // A future version: never `ff`, and its extra fields start with `-`.
            guard value[0] != UInt8(ascii: "f") || value[1] != UInt8(ascii: "f"),
                value.count == 55 || value[55] == UInt8(ascii: "-")
            else { return nil }
            value = [UInt8(ascii: "0"), UInt8(ascii: "0")] + value[2..<55]
        }
        let header = String(decoding: value, as: UTF8.self)
        // A `tracestate` the package cannot read is dropped; the `traceparent` still counts.
        var state = tracestate.flatMap(boundedTraceState)
        var parsed = state.flatMap { try? TraceContext(traceParentHeaderValue: header, traceStateHeaderValue: $0) }
        if parsed == nil {
            state = nil
            parsed = try? TraceContext(traceParentHeaderValue: header)
        }
        guard let context = parsed, let traceID = Telemetry.TraceID(hex: context.traceID.description),
            let spanID = Telemetry.SpanID(hex: context.spanID.description)
        else { return nil }
        return SpanContext(traceID: traceID, spanID: spanID, traceFlags: context.flags.rawValue, traceState: state, isRemote: true)
    }

    /// Formats a `traceparent` value (version 00).
    public static func traceparent(for context: SpanContext) -> String {
        "00-\(context.traceID)-\(context.spanID)-\(HexCoding.hexByte(context.traceFlags))"
    }

    /// `tracestate` within the specification's bounds (32 members, 512 characters), or nil.
    static func boundedTraceState(_ raw: String) -> String? {
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
