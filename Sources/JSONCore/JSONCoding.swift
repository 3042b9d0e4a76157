import Foundation

/// Fast conversion between JSON text and `JSONValue`, on every QIX message's path.
///
/// Hand-written in both directions: Foundation's `JSONSerialization` cannot tell `true` from `1`
/// on Linux and builds an `NSObject` tree first, and `Codable` through `JSONValue` is several
/// times slower than this direct recursive-descent parser (RFC 8259, depth-limited).
public enum JSONCoding {
    /// Parses JSON text. Throws `JSONParseError` with the byte offset of the problem.
    public static func parse(_ data: Data) throws -> JSONValue {
        try data.withUnsafeBytes { raw in
            var parser = JSONParser(bytes: raw.bindMemory(to: UInt8.self))
            return try parser.parseDocument()
        }
    }

    public static func parse(_ text: String) throws -> JSONValue {
        var text = text
        return try text.withUTF8 { buffer in
            var parser = JSONParser(bytes: buffer)
            return try parser.parseDocument()
        }
    }

    /// Serializes `value` as compact JSON text.
    public static func serialize(_ value: JSONValue) -> String {
        var out = ""
        out.reserveCapacity(256)
        write(value, into: &out)
        return out
    }

    public static func serializeData(_ value: JSONValue) -> Data {
        Data(serialize(value).utf8)
    }

    /// Serializes `value` with object keys in sorted (code point) order, so equal values always
    /// give equal text — in every process (dictionary order is not stable across processes).
    public static func serializeCanonical(_ value: JSONValue) -> String {
        var out = ""
        out.reserveCapacity(256)
        write(value, into: &out, sorted: true)
        return out
    }

    private static func write(_ value: JSONValue, into out: inout String, sorted: Bool = false) {
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += number(n)
        case .string(let s): writeString(s, into: &out)
        case .array(let array):
            out += "["
            for (index, element) in array.enumerated() {
                if index > 0 { out += "," }
                write(element, into: &out, sorted: sorted)
            }
            out += "]"
        case .object(let object):
            out += "{"
            var first = true
            func member(_ key: String, _ element: JSONValue) {
                if !first { out += "," }
                first = false
                writeString(key, into: &out)
                out += ":"
                write(element, into: &out, sorted: sorted)
            }
            if sorted {
                for (key, element) in object.sorted(by: { $0.key.unicodeScalars.lexicographicallyPrecedes($1.key.unicodeScalars) }) { member(key, element) }
            } else {
                for (key, element) in object { member(key, element) }
            }
            out += "}"
        }
    }

    /// Integral values print without a fraction; NaN and infinities (not JSON) print as null.
    static func number(_ n: Double) -> String {
        guard n.isFinite else { return "null" }
        if n.rounded() == n && abs(n) < 1e15 { return String(Int64(n)) }
        return "\(n)"
    }

    private static func writeString(_ s: String, into out: inout String) {
        out += "\""
        var needsEscape = false
        for byte in s.utf8 where byte < 0x20 || byte == 0x22 || byte == 0x5C {
            needsEscape = true
            break
        }
        if !needsEscape {
            out += s
        } else {
            for scalar in s.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                case _ where scalar.value < 0x20:
                    out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
                default: out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}
