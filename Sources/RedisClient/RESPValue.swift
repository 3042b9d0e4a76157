/// A RESP3 value (the Redis serialization protocol, version 3), as the server sends it.
public indirect enum RESPValue: Sendable, Equatable {
    case simpleString(String)
    case simpleError(String)
    case integer(Int64)
    /// A bulk string's bytes; Redis strings are binary-safe.
    case bulkString([UInt8])
    case bulkError(String)
    case verbatim(format: String, text: String)
    case double(Double)
    case boolean(Bool)
    case bigNumber(String)
    case null
    case array([RESPValue])
    case map([(RESPValue, RESPValue)])
    case set([RESPValue])
    /// An out-of-band message (pub/sub messages, invalidations).
    case push([RESPValue])

    public static func == (lhs: RESPValue, rhs: RESPValue) -> Bool {
        switch (lhs, rhs) {
        case (.simpleString(let a), .simpleString(let b)), (.simpleError(let a), .simpleError(let b)), (.bulkError(let a), .bulkError(let b)),
            (.bigNumber(let a), .bigNumber(let b)):
            return a == b
        case (.integer(let a), .integer(let b)): return a == b
        case (.bulkString(let a), .bulkString(let b)): return a == b
        case (.verbatim(let f1, let t1), .verbatim(let f2, let t2)): return f1 == f2 && t1 == t2
        case (.double(let a), .double(let b)): return a == b || (a.isNaN && b.isNaN)
        case (.boolean(let a), .boolean(let b)): return a == b
        case (.null, .null): return true
        case (.array(let a), .array(let b)), (.set(let a), .set(let b)), (.push(let a), .push(let b)): return a == b
        case (.map(let a), .map(let b)): return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// The value as text: simple and bulk strings (UTF-8), verbatim text, numbers; nil otherwise.
    public var string: String? {
        switch self {
        case .simpleString(let text), .bigNumber(let text): return text
        case .bulkString(let bytes): return String(decoding: bytes, as: UTF8.self)
        case .verbatim(_, let text): return text
        case .integer(let value): return String(value)
        case .double(let value): return String(value)
        default: return nil
        }
    }

    /// The value as an integer: integers, and strings that hold one.
    public var int: Int64? {
        switch self {
        case .integer(let value): return value
        case .simpleString, .bulkString: return string.flatMap { Int64($0) }
        default: return nil
        }
    }

    /// The elements of an array, set or push.
    public var elements: [RESPValue]? {
        switch self {
        case .array(let values), .set(let values), .push(let values): return values
        default: return nil
        }
    }

    /// The error text when the value is an error reply.
    public var errorMessage: String? {
        switch self {
        case .simpleError(let text), .bulkError(let text): return text
        default: return nil
        }
    }
}
