import NIOCore

/// Why bytes from the server could not be read as RESP3.
public struct RESPProtocolError: Error, CustomStringConvertible, Equatable {
    public let description: String
}

/// An incremental, bounded RESP3 parser: `parse` returns a complete value, or nil when more bytes
/// are needed (the reader index is left untouched), or throws on bytes that are not RESP3 or that
/// exceed the limits — a bulk string over `maxBulkLength`, an aggregate over `maxElements`, nesting
/// over `maxDepth`, a line over `maxLineLength` — so a broken or hostile server cannot make the
/// client allocate without bound.
///
/// Hand-written: no Swift Redis client is among the packages this project can use.
public struct RESPParser: Sendable {
    public var maxBulkLength = 64 << 20
    public var maxElements = 1 << 20
    public var maxDepth = 32
    public var maxLineLength = 64 << 10

    public init() {}

    public func parse(_ buffer: inout ByteBuffer) throws -> RESPValue? {
        var copy = buffer
        guard let value = try parseValue(&copy, depth: 0) else { return nil }
        buffer = copy
        return value
    }

    private func parseValue(_ buffer: inout ByteBuffer, depth: Int) throws -> RESPValue? {
        guard depth <= maxDepth else { throw RESPProtocolError(description: "nesting deeper than \(maxDepth)") }
        guard let type = buffer.readInteger(as: UInt8.self) else { return nil }
        switch type {
        case UInt8(ascii: "+"): return try line(&buffer).map(RESPValue.simpleString)
        case UInt8(ascii: "-"): return try line(&buffer).map(RESPValue.simpleError)
        case UInt8(ascii: ":"):
            guard let text = try line(&buffer) else { return nil }
            guard let value = Int64(text) else { throw RESPProtocolError(description: "integer expected, got '\(text.prefix(40))'") }
            return .integer(value)
        case UInt8(ascii: "("):
            guard let text = try line(&buffer) else { return nil }
            guard !text.isEmpty, text.drop(while: { $0 == "-" || $0 == "+" }).allSatisfy(\.isNumber) else {
                throw RESPProtocolError(description: "big number expected, got '\(text.prefix(40))'")
            }
            return .bigNumber(text)
        case UInt8(ascii: ","):
            guard let text = try line(&buffer) else { return nil }
            switch text {
            case "inf": return .double(.infinity)
            case "-inf": return .double(-.infinity)
            case "nan": return .double(.nan)
            default:
                guard let value = Double(text) else { throw RESPProtocolError(description: "double expected, got '\(text.prefix(40))'") }
                return .double(value)
            }
        case UInt8(ascii: "#"):
            guard let text = try line(&buffer) else { return nil }
            guard text == "t" || text == "f" else { throw RESPProtocolError(description: "boolean expected, got '\(text.prefix(40))'") }
            return .boolean(text == "t")
        case UInt8(ascii: "_"):
            guard let text = try line(&buffer) else { return nil }
            guard text.isEmpty else { throw RESPProtocolError(description: "null carries no data") }
            return .null
        case UInt8(ascii: "$"), UInt8(ascii: "!"), UInt8(ascii: "="):
            guard let bytes = try blob(&buffer) else { return nil }
            guard let bytes else { return .null }  // RESP2 null bulk string ($-1)
            if type == UInt8(ascii: "!") { return .bulkError(String(decoding: bytes, as: UTF8.self)) }
            if type == UInt8(ascii: "=") {
                guard bytes.count >= 4, bytes[3] == UInt8(ascii: ":") else { throw RESPProtocolError(description: "verbatim string without a format") }
                return .verbatim(format: String(decoding: bytes[0..<3], as: UTF8.self), text: String(decoding: bytes[4...], as: UTF8.self))
            }
            return .bulkString(bytes)
        case UInt8(ascii: "*"), UInt8(ascii: "~"), UInt8(ascii: ">"):
            guard let count = try length(&buffer) else { return nil }
            guard count >= 0 else { return .null }  // RESP2 null array (*-1)
            var values: [RESPValue] = []
            values.reserveCapacity(min(count, 1_024))
            for _ in 0..<count {
                guard let value = try parseValue(&buffer, depth: depth + 1) else { return nil }
                values.append(value)
            }
            return type == UInt8(ascii: "*") ? .array(values) : (type == UInt8(ascii: "~") ? .set(values) : .push(values))
        case UInt8(ascii: "%"), UInt8(ascii: "|"):
            guard let count = try length(&buffer) else { return nil }
            guard count >= 0, count <= maxElements / 2 else { throw RESPProtocolError(description: "map of \(count) entries is over the limit") }
            var pairs: [(RESPValue, RESPValue)] = []
            pairs.reserveCapacity(min(count, 1_024))
            for _ in 0..<count {
                guard let key = try parseValue(&buffer, depth: depth + 1), let value = try parseValue(&buffer, depth: depth + 1) else { return nil }
                pairs.append((key, value))
            }
            if type == UInt8(ascii: "|") {
                // Attributes annotate the reply that follows; the reply is what callers want.
                return try parseValue(&buffer, depth: depth + 1)
            }
            return .map(pairs)
        default:
            throw RESPProtocolError(description: "unknown RESP type byte 0x\(String(type, radix: 16))")
        }
    }

    /// A CRLF-terminated line, or nil when its end has not arrived.
    private func line(_ buffer: inout ByteBuffer) throws -> String? {
        let view = buffer.readableBytesView
        guard let cr = view.firstIndex(of: UInt8(ascii: "\r")) else {
            if view.count > maxLineLength { throw RESPProtocolError(description: "line longer than \(maxLineLength) bytes") }
            return nil
        }
        guard cr - view.startIndex <= maxLineLength else { throw RESPProtocolError(description: "line longer than \(maxLineLength) bytes") }
        guard view.index(after: cr) < view.endIndex else { return nil }
        guard view[view.index(after: cr)] == UInt8(ascii: "\n") else { throw RESPProtocolError(description: "CR without LF") }
        let text = buffer.readString(length: cr - view.startIndex) ?? ""
        buffer.moveReaderIndex(forwardBy: 2)
        return text
    }

    /// The declared length of an aggregate or blob: -1 for RESP2 nulls; nil when incomplete.
    private func length(_ buffer: inout ByteBuffer) throws -> Int? {
        guard let text = try line(&buffer) else { return nil }
        guard let count = Int(text), count >= -1 else { throw RESPProtocolError(description: "length expected, got '\(text.prefix(40))'") }
        guard count <= maxElements else { throw RESPProtocolError(description: "aggregate of \(count) elements is over the limit of \(maxElements)") }
        return count
    }

    /// A length-prefixed blob: `.some(nil)` for a RESP2 null, nil when incomplete.
    private func blob(_ buffer: inout ByteBuffer) throws -> [UInt8]?? {
        guard let text = try line(&buffer) else { return nil }
        guard let count = Int(text), count >= -1 else { throw RESPProtocolError(description: "length expected, got '\(text.prefix(40))'") }
        if count == -1 { return .some(nil) }
        guard count <= maxBulkLength else { throw RESPProtocolError(description: "bulk string of \(count) bytes is over the limit of \(maxBulkLength)") }
        guard buffer.readableBytes >= count + 2 else { return nil }
        let bytes = buffer.readBytes(length: count) ?? []
        guard buffer.readBytes(length: 2) == [UInt8(ascii: "\r"), UInt8(ascii: "\n")] else { throw RESPProtocolError(description: "bulk string not followed by CRLF") }
        return .some(bytes)
    }
}

/// Writes commands as RESP arrays of bulk strings (what every Redis command is on the wire).
public enum RESPEncoder {
    public static func encode(_ command: [String], into buffer: inout ByteBuffer) {
        encode(command.map { Array($0.utf8) }, into: &buffer)
    }

    public static func encode(_ command: [[UInt8]], into buffer: inout ByteBuffer) {
        buffer.writeString("*\(command.count)\r\n")
        for argument in command {
            buffer.writeString("$\(argument.count)\r\n")
            buffer.writeBytes(argument)
            buffer.writeString("\r\n")
        }
    }
}
