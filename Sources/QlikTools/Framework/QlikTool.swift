import JSONCore

/// What a tool returns on success: structured content (validates against the output schema) and
/// a compact text rendering for the model.
public struct ToolOutput: Sendable {
    public let structured: JSONValue
    public let text: String

    public init(structured: JSONValue, text: String) {
        self.structured = structured
        self.text = text
    }
}

/// One MCP tool: its surface (name, description, schemas, annotations) and its handler.
/// Tools are values grouped into `Toolset`s; no central switch knows them.
public struct QlikTool: Sendable {
    public let name: String
    public let title: String
    public let description: String
    public let toolset: String
    public let input: Schema
    public let output: Schema
    public let readOnly: Bool
    public let destructive: Bool
    public let idempotent: Bool
    /// The tool's version (in `_meta`); bump it when its behaviour or schema changes.
    public let version: String
    /// Former names of a renamed tool. Each stays callable and listed, flagged as deprecated, for
    /// one version: remove it when `version` next changes.
    public let deprecatedNames: [String]
    /// Set on a deprecated alias: the tool's current name.
    public internal(set) var replacement: String?
    public let handler: @Sendable (ToolArguments, ToolContext) async throws -> ToolOutput

    public init(
        name: String, title: String, description: String, toolset: String, input: Schema, output: Schema,
        readOnly: Bool = true, destructive: Bool = false, idempotent: Bool = true, version: String = "1.0.0",
        deprecatedNames: [String] = [],
        handler: @escaping @Sendable (ToolArguments, ToolContext) async throws -> ToolOutput
    ) {
        self.name = name
        self.title = title
        self.description = description
        self.toolset = toolset
        self.input = input
        self.output = output
        self.readOnly = readOnly
        self.destructive = destructive
        self.idempotent = idempotent
        self.version = version
        self.deprecatedNames = deprecatedNames
        self.handler = handler
    }
}

extension QlikTool {
    /// The tool listed under a deprecated former name: same schemas and handler, description flagged.
    func deprecatedAlias(_ oldName: String) -> QlikTool {
        var alias = QlikTool(
            name: oldName, title: "\(title) (deprecated name)",
            description: "DEPRECATED: renamed to \(name) in version \(version); this name is removed in the next version. Call \(name) instead. \(description)",
            toolset: toolset, input: input, output: output, readOnly: readOnly, destructive: destructive, idempotent: idempotent,
            version: version, handler: handler)
        alias.replacement = name
        return alias
    }
}

/// A named group of tools that can be enabled or disabled together.
public struct Toolset: Sendable {
    public let name: String
    public let description: String
    public let tools: [QlikTool]

    public init(name: String, description: String, tools: [QlikTool]) {
        self.name = name
        self.description = description
        self.tools = tools
    }
}
