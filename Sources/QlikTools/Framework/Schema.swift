import JSONCore

/// Builds the JSON Schemas of tool inputs and outputs (a small DSL so every tool states types,
/// descriptions and bounds the same way).
public indirect enum Schema: Sendable {
    case string(String, maxLength: Int = 1_000, enumeration: [String]? = nil)
    case integer(String, minimum: Int, maximum: Int, defaultValue: Int? = nil)
    case number(String)
    case boolean(String, defaultValue: Bool? = nil)
    case array(String, items: Schema, maxItems: Int = 100)
    case object(String, properties: [(String, Schema)], required: [String] = [], additional: Bool = false)
    /// Any JSON (used in output schemas for engine-defined shapes).
    case any(String)

    /// The JSON Schema of an input (with every bound).
    public var json: JSONValue { render(output: false) }

    /// The JSON Schema of an output: string lengths are not bounded there (results are capped by
    /// row and byte limits instead).
    public var outputJSON: JSONValue { render(output: true) }

    private func render(output: Bool) -> JSONValue {
        switch self {
        case .string(let description, let maxLength, let enumeration):
            var schema: [String: JSONValue] = ["type": "string", "description": .string(description)]
            if !output { schema["maxLength"] = .number(Double(maxLength)) }
            if let enumeration { schema["enum"] = .array(enumeration.map { .string($0) }) }
            return .object(schema)
        case .integer(let description, let minimum, let maximum, let defaultValue):
            var schema: [String: JSONValue] = [
                "type": "integer", "description": .string(description),
                "minimum": .number(Double(minimum)), "maximum": .number(Double(maximum)),
            ]
            if let defaultValue { schema["default"] = .number(Double(defaultValue)) }
            return .object(schema)
        case .number(let description):
            return ["type": "number", "description": .string(description)]
        case .boolean(let description, let defaultValue):
            var schema: [String: JSONValue] = ["type": "boolean", "description": .string(description)]
            if let defaultValue { schema["default"] = .bool(defaultValue) }
            return .object(schema)
        case .array(let description, let items, let maxItems):
            return ["type": "array", "description": .string(description), "items": items.render(output: output), "maxItems": .number(Double(maxItems))]
        case .object(let description, let properties, let required, let additional):
            return [
                "type": "object", "description": .string(description),
                "properties": .object(Dictionary(uniqueKeysWithValues: properties.map { ($0.0, $0.1.render(output: output)) })),
                "required": .array(required.map { .string($0) }), "additionalProperties": .bool(additional),
            ]
        case .any(let description):
            return ["description": .string(description)]
        }
    }
}
