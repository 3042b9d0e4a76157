import Logging

/// Appends JSON to a byte buffer. Hand-written because Foundation's encoders allocate far more
/// than a log line may cost (the budget is a few microseconds per line).
struct JSONWriter {
    var bytes: [UInt8] = []
    private var needsComma = false

    init(capacity: Int = 512) {
        bytes.reserveCapacity(capacity)
    }

    mutating func beginObject() {
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    mutating func key(_ key: String) {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        string(key)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    mutating func field(_ name: String, _ value: String) {
        key(name)
        string(value)
    }

    mutating func raw(_ text: String) {
        bytes.append(contentsOf: text.utf8)
        needsComma = true
    }

    mutating func string(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        let clean = text.utf8.withContiguousStorageIfAvailable { buffer -> Bool in
            for byte in buffer where byte < 0x20 || byte == 0x22 || byte == 0x5C || byte == 0x7F { return false }
            bytes.append(contentsOf: buffer)
            return true
        }
        if clean == true {
            bytes.append(UInt8(ascii: "\""))
            needsComma = true
            return
        }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case UInt8(ascii: "\n"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case UInt8(ascii: "\t"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20, 0x7F:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [
                    UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                    hex[Int(byte >> 4)], hex[Int(byte & 0xF)],
                ])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
        needsComma = true
    }

    /// The JSON text of a number or boolean value; nil for anything else (and for NaN/infinity,
    /// which JSON cannot express).
    static func number(_ value: any CustomStringConvertible & Sendable) -> String? {
        switch value {
        case let bool as Bool: return bool ? "true" : "false"
        case let int as Int: return String(int)
        case let int as Int64: return String(int)
        case let int as Int32: return String(int)
        case let int as UInt: return String(int)
        case let int as UInt64: return String(int)
        case let int as UInt32: return String(int)
        case let int as UInt16: return String(int)
        case let int as UInt8: return String(int)
        case let double as Double: return double.isFinite ? String(double) : nil
        case let float as Float: return float.isFinite ? String(float) : nil
        default: return nil
        }
    }

    /// Writes a metadata value, scrubbing every string inside it (credential-named keys lose the value).
    mutating func metadataValue(_ value: Logger.MetadataValue, key: String, scrubber: PIIScrubber, depth: Int = 0) {
        switch value {
        case .string(let text):
            string(scrubber.scrub(value: text, forKey: key))
        case .stringConvertible(let convertible):
            // Numbers and booleans are written as JSON numbers and booleans (no PII can hide in them).
            if let number = Self.number(convertible) {
                raw(number)
            } else {
                string(scrubber.scrub(value: convertible.description, forKey: key))
            }
        case .array(let values):
            guard depth < 8 else { string("[truncated]"); return }
            bytes.append(UInt8(ascii: "["))
            needsComma = false
            for element in values {
                if needsComma { bytes.append(UInt8(ascii: ",")) }
                metadataValue(element, key: key, scrubber: scrubber, depth: depth + 1)
            }
            bytes.append(UInt8(ascii: "]"))
            needsComma = true
        case .dictionary(let dictionary):
            guard depth < 8 else { string("[truncated]"); return }
            beginObject()
            for (nestedKey, nested) in dictionary.sorted(by: { $0.key < $1.key }) {
                self.key(nestedKey)
                metadataValue(nested, key: nestedKey, scrubber: scrubber, depth: depth + 1)
            }
            endObject()
        }
    }
}
