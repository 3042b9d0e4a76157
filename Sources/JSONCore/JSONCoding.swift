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
        String(decoding: bytes(value, sorted: false), as: UTF8.self)
    }

    public static func serializeData(_ value: JSONValue) -> Data {
        Data(bytes(value, sorted: false))
    }

    /// Serializes `value` with object keys in sorted (code point) order, so equal values always
    /// give equal text — in every process (dictionary order is not stable across processes).
    public static func serializeCanonical(_ value: JSONValue) -> String {
        String(decoding: bytes(value, sorted: true), as: UTF8.self)
    }

    /// The UTF-8 bytes of `value` (written into one growing byte buffer: appending to a `String`
    /// piece by piece costs several times more on large answers).
    static func bytes(_ value: JSONValue, sorted: Bool) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512)
        write(value, into: &out, sorted: sorted)
        return out
    }

    private static func write(_ value: JSONValue, into out: inout [UInt8], sorted: Bool) {
        switch value {
        case .null: out.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
        case .bool(let b): out.append(contentsOf: b ? [0x74, 0x72, 0x75, 0x65] : [0x66, 0x61, 0x6C, 0x73, 0x65])
        case .number(let n): out.append(contentsOf: number(n).utf8)
        case .string(let s): writeString(s, into: &out)
        case .array(let array):
            out.append(0x5B)
            for (index, element) in array.enumerated() {
                if index > 0 { out.append(0x2C) }
                write(element, into: &out, sorted: sorted)
            }
            out.append(0x5D)
        case .object(let object):
            out.append(0x7B)
            var first = true
            func member(_ key: String, _ element: JSONValue) {
                if !first { out.append(0x2C) }
                first = false
                writeString(key, into: &out)
                out.append(0x3A)
                write(element, into: &out, sorted: sorted)
            }
            if sorted {
                for (key, element) in object.sorted(by: { $0.key.unicodeScalars.lexicographicallyPrecedes($1.key.unicodeScalars) }) { member(key, element) }
            } else {
                for (key, element) in object { member(key, element) }
            }
            out.append(0x7D)
        }
    }

    /// Integral values print without a fraction; NaN and infinities (not JSON) print as null.
    static func number(_ n: Double) -> String {
        guard n.isFinite else { return "null" }
        if n.rounded() == n && abs(n) < 1e15 { return String(Int64(n)) }
        return "\(n)"
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// A JSON string: quotes, backslashes and control characters escaped; everything else (UTF-8
    /// included) copied in runs.
    private static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(0x22)
        var s = s
        s.withUTF8 { bytes in
            var run = 0
            for index in 0..<bytes.count {
                let byte = bytes[index]
                guard byte < 0x20 || byte == 0x22 || byte == 0x5C else { continue }
                if run < index { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run..<index])) }
                run = index + 1
                out.append(0x5C)
                switch byte {
                case 0x22: out.append(0x22)
                case 0x5C: out.append(0x5C)
                case 0x0A: out.append(0x6E)
                case 0x0D: out.append(0x72)
                case 0x09: out.append(0x74)
                default: out.append(contentsOf: [0x75, 0x30, 0x30, hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0x0F)]])
                }
            }
            if run < bytes.count { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run..<bytes.count])) }
        }
        out.append(0x22)
    }
}
