import Foundation

/// A 16-byte W3C trace id, stored as two big-endian halves.
public struct TraceID: Hashable, Sendable, CustomStringConvertible {
    public let high: UInt64
    public let low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// A random, non-zero trace id.
    public static func random<G: RandomNumberGenerator>(using generator: inout G) -> TraceID {
        var id: TraceID
        repeat { id = TraceID(high: generator.next(), low: generator.next()) } while id.isZero
        return id
    }

    /// Parses 32 lowercase hex characters; nil for anything else or the all-zero id.
    public init?<S: StringProtocol>(hex: S) {
        guard hex.utf8.count == 32,
            let high = HexCoding.parse(hex.utf8.prefix(16)),
            let low = HexCoding.parse(hex.utf8.dropFirst(16)),
            high != 0 || low != 0
        else { return nil }
        self.init(high: high, low: low)
    }

    public var isZero: Bool { high == 0 && low == 0 }

    /// 32 lowercase hex characters.
    public var description: String { HexCoding.hex(high) + HexCoding.hex(low) }

    /// The 16 bytes, big-endian (the OTLP wire form).
    public var bytes: [UInt8] { HexCoding.bytes(high) + HexCoding.bytes(low) }

    /// The 16 bytes as `Data`, built without intermediate arrays.
    public var data: Data {
        var big = (high.bigEndian, low.bigEndian)
        return withUnsafeBytes(of: &big) { Data($0) }
    }
}

/// An 8-byte W3C span id.
public struct SpanID: Hashable, Sendable, CustomStringConvertible {
    public let value: UInt64

    public init(_ value: UInt64) { self.value = value }

    /// A random, non-zero span id.
    public static func random<G: RandomNumberGenerator>(using generator: inout G) -> SpanID {
        var value: UInt64
        repeat { value = generator.next() } while value == 0
        return SpanID(value)
    }

    /// Parses 16 lowercase hex characters; nil for anything else or the all-zero id.
    public init?<S: StringProtocol>(hex: S) {
        guard hex.utf8.count == 16, let value = HexCoding.parse(hex.utf8), value != 0 else { return nil }
        self.value = value
    }

    public var description: String { HexCoding.hex(value) }

    /// The 8 bytes, big-endian (the OTLP wire form).
    public var bytes: [UInt8] { HexCoding.bytes(value) }

    /// The 8 bytes as `Data`, built without intermediate arrays.
    public var data: Data {
        var big = value.bigEndian
        return withUnsafeBytes(of: &big) { Data($0) }
    }
}

/// Lowercase hex conversions used by ids and `traceparent`.
enum HexCoding {
    private static let digits = Array("0123456789abcdef".utf8)

    static func hex(_ value: UInt64) -> String {
        String(unsafeUninitializedCapacity: 16) { buffer in
            var v = value
            for index in stride(from: 15, through: 0, by: -1) {
                buffer[index] = digits[Int(v & 0xF)]
                v >>= 4
            }
            return 16
        }
    }

    static func hexByte(_ value: UInt8) -> String {
        String(decoding: [digits[Int(value >> 4)], digits[Int(value & 0xF)]], as: UTF8.self)
    }

    /// Parses lowercase hex only (W3C trace context forbids uppercase).
    static func parse<C: Collection>(_ utf8: C) -> UInt64? where C.Element == UInt8 {
        guard !utf8.isEmpty, utf8.count <= 16 else { return nil }
        var value: UInt64 = 0
        for byte in utf8 {
            let nibble: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = byte - UInt8(ascii: "a") + 10
            default: return nil
            }
            value = value << 4 | UInt64(nibble)
        }
        return value
    }

    static func bytes(_ value: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * $0)) }
    }
}
