import JSONCore

/// Arguments that do not match the tool's input schema: a protocol error (JSON-RPC -32602)
/// naming the offending field.
public struct ArgumentError: Error, Sendable, Equatable, CustomStringConvertible {
    public let field: String
    public let message: String
    public var description: String { "invalid argument '\(field)': \(message)" }
}

/// Validated tool arguments with typed accessors.
public struct ToolArguments: Sendable {
    public let values: [String: JSONValue]

    /// Validates `arguments` against the tool's input schema (types, required, enum, bounds,
    /// lengths, no unknown properties).
    public init(_ arguments: JSONValue?, schema: Schema) throws {
        let object: [String: JSONValue]
        switch arguments {
        case .none, .some(.null): object = [:]
        case .some(.object(let value)): object = value
        case .some: throw ArgumentError(field: "arguments", message: "arguments must be a JSON object")
        }
        try Self.validate(.object(object), against: schema, path: "", output: false)
        values = object
    }

    static func validate(_ value: JSONValue, against schema: Schema, path: String, output: Bool) throws {
        func fail(_ message: String) -> ArgumentError { ArgumentError(field: path.isEmpty ? "arguments" : path, message: message) }
        switch schema {
        case .string(_, let maxLength, let enumeration):
            guard let text = value.stringValue else { throw fail("must be a string") }
            guard output || text.count <= maxLength else { throw fail("is \(text.count) characters; at most \(maxLength)") }
            if let enumeration, !enumeration.contains(text) { throw fail("must be one of \(enumeration.joined(separator: ", "))") }
        case .integer(_, let minimum, let maximum, _):
            guard let number = value.doubleValue, number.rounded() == number else { throw fail("must be an integer") }
            guard number >= Double(minimum), number <= Double(maximum) else { throw fail("must be between \(minimum) and \(maximum)") }
        case .number:
            guard value.doubleValue?.isFinite == true else { throw fail("must be a number") }
        case .boolean:
            guard value.boolValue != nil else { throw fail("must be true or false") }
        case .array(_, let items, let maxItems):
            guard let array = value.arrayValue else { throw fail("must be an array") }
            guard array.count <= maxItems else { throw fail("has \(array.count) items; at most \(maxItems)") }
            for (index, item) in array.enumerated() { try validate(item, against: items, path: "\(path)[\(index)]", output: output) }
        case .object(_, let properties, let required, let additional):
            guard let object = value.objectValue else { throw fail("must be an object") }
            let known = Dictionary(properties, uniquingKeysWith: { first, _ in first })
            for name in required where object[name] == nil || object[name] == .null {
                throw ArgumentError(field: path.isEmpty ? name : "\(path).\(name)", message: "is required")
            }
            for (name, item) in object {
                let itemPath = path.isEmpty ? name : "\(path).\(name)"
                guard let itemSchema = known[name] else {
                    if additional { continue }
                    throw ArgumentError(field: itemPath, message: "is not a parameter of this tool (known: \(properties.map(\.0).joined(separator: ", ")))")
                }
                if item == .null && !required.contains(name) { continue }
                try validate(item, against: itemSchema, path: itemPath, output: output)
            }
        case .any:
            break
        }
    }

    /// Checks a tool's structured content against its output schema (used by the tests; a
    /// mismatch is a bug in the tool, reported with the path).
    public static func validateOutput(_ value: JSONValue, against schema: Schema) throws {
        try validate(value, against: schema, path: "", output: true)
    }

    public func string(_ name: String) -> String? { values[name]?.stringValue }
    public func int(_ name: String) -> Int? { values[name]?.intValue }
    public func bool(_ name: String) -> Bool? { values[name]?.boolValue }
    public func array(_ name: String) -> [JSONValue]? { values[name]?.arrayValue }
    public func object(_ name: String) -> [String: JSONValue]? { values[name]?.objectValue }

    /// A required string (already validated as present).
    public func required(_ name: String) -> String { values[name]?.stringValue ?? "" }
}
