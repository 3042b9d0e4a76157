import JSONCore
import MCP

/// The tools one MCP session sees. In static mode every tool of the registry; in dynamic mode only
/// the discovery tools (`list_toolsets`, `get_toolset_tools`, `enable_toolset`) until the client
/// enables a toolset — after which the server sends `notifications/tools/list_changed`.
public actor ToolSession {
    public let registry: ToolRegistry
    public let dynamic: Bool
    public let context: ToolContext
    private var enabled: Set<String> = []
    /// The scopes of the caller's credentials (HTTP with auth); nil: every tool (stdio, no auth).
    private var granted: Set<QlikScope>?

    public init(registry: ToolRegistry, dynamic: Bool, context: ToolContext) {
        self.registry = registry
        self.dynamic = dynamic
        self.context = context
    }

    /// The canonical name of a tool (a deprecated alias gives its tool's name), a discovery tool's
    /// name, or nil when no tool has this name.
    public nonisolated func canonicalToolName(_ name: String) -> String? {
        registry.tool(named: name)?.name ?? DiscoveryTools.all.first(where: { $0.name == name })?.name
    }

    /// Toolsets enabled in this session (dynamic mode).
    public var enabledToolsets: Set<String> { enabled }

    /// Sets the enabled toolsets (a session restored on another replica); unknown names are
    /// ignored. True when the set changed.
    @discardableResult
    public func setEnabledToolsets(_ names: Set<String>) -> Bool {
        let known = names.filter { name in registry.tools.contains { $0.toolset == name } }
        defer { enabled = known }
        return enabled != known
    }

    /// Limits the session to the tools these scopes allow (set from each authenticated request,
    /// so a step-up to more scopes shows more tools at once).
    /// Returns true when the scopes changed (the tool list may have changed with them).
    @discardableResult
    public func restrict(to scopes: Set<QlikScope>?) -> Bool {
        defer { granted = scopes }
        return granted != scopes
    }

    /// The tools this session lists now: by mode and toolset, then by the caller's scopes.
    public var tools: [QlikTool] {
        let candidates = dynamic ? DiscoveryTools.all + registry.tools.filter { enabled.contains($0.toolset) } : registry.tools
        guard let granted else { return candidates }
        return candidates.filter { tool in ToolScopes.required(for: tool.name).map(granted.contains) ?? false }
    }

    public var definitions: [Tool] { ToolRegistry.definitions(of: tools) }

    /// Runs a tool. `listChanged` is true when the call changed the tool list (enable_toolset).
    public func call(
        _ name: String, arguments: JSONValue?, progress: ProgressReporter? = nil,
        attributes: [String: String] = [:], directives: CallDirectives = CallDirectives()
    ) async throws -> (result: CallTool.Result, listChanged: Bool) {
        if let granted, let canonical = registry.tool(named: name)?.name ?? DiscoveryTools.all.first(where: { $0.name == name })?.name {
            // Tools without a table entry (none ship; fixtures in tests) need admin.
            let needed = ToolScopes.required(for: canonical) ?? .admin
            guard granted.contains(needed) else {
                throw ToolError(
                    code: "INSUFFICIENT_SCOPE", category: .permissionDenied, message: "the tool \(name) needs the scope \(needed.rawValue)",
                    remediation: "authorize again asking for \(needed.rawValue)")
            }
        }
        if dynamic, let discovery = DiscoveryTools.all.first(where: { $0.name == name }) {
            let validated = try ToolArguments(arguments, schema: discovery.input)
            let before = enabled
            let outcome = Result { try self.discovery(name, validated) }
            let result = try await ToolInstrumentation.shared.run(tool: discovery, context: context.forCall(progress: nil, attributes: attributes)) { try outcome.get() }
            return (result, enabled != before)
        }
        if dynamic, let tool = registry.tool(named: name), !enabled.contains(tool.toolset) {
            throw ArgumentError(field: "name", message: "tool '\(name)' belongs to the toolset '\(tool.toolset)', which is not enabled; call enable_toolset first")
        }
        return (try await registry.call(name, arguments: arguments, context: context.forCall(progress: progress, attributes: attributes, directives: directives)), false)
    }

    private func discovery(_ name: String, _ arguments: ToolArguments) throws -> ToolOutput {
        let toolsets = registry.toolsets.filter { set in registry.tools.contains { $0.toolset == set.name } }
        func find(_ name: String) throws -> Toolset {
            guard let toolset = toolsets.first(where: { $0.name == name }) else {
                throw ToolError.notFound("toolset", name, candidates: toolsets.map(\.name), listTool: "list_toolsets")
            }
            return toolset
        }
        switch name {
        case "list_toolsets":
            let items: [JSONValue] = toolsets.map { set in
                [
                    "name": .string(set.name), "description": .string(set.description), "enabled": .bool(enabled.contains(set.name)),
                    "tool_count": .number(Double(registry.tools.filter { $0.toolset == set.name }.count)),
                ]
            }
            return ToolOutput(
                structured: ["toolsets": .array(items)],
                text: TextTable.render(
                    headers: ["toolset", "tools", "enabled", "description"],
                    rows: items.map { [$0["name"]?.stringValue ?? "", String($0["tool_count"]?.intValue ?? 0), $0["enabled"] == true ? "yes" : "no", $0["description"]?.stringValue ?? ""] }))
        case "get_toolset_tools":
            let set = try find(arguments.required("toolset"))
            let tools = registry.tools.filter { $0.toolset == set.name }
            return ToolOutput(
                structured: ["toolset": .string(set.name), "tools": .array(tools.map { ["name": .string($0.name), "description": .string($0.description)] })],
                text: ToolCatalogue.markdown(tools))
        default:
            let set = try find(arguments.required("toolset"))
            let added = enabled.insert(set.name).inserted
            return ToolOutput(
                structured: ["toolset": .string(set.name), "enabled": true, "newly_enabled": .bool(added)],
                text: added ? "enabled \(set.name): its tools are now listed" : "\(set.name) was already enabled")
        }
    }
}

/// The discovery tools of dynamic mode.
enum DiscoveryTools {
    static let toolsetArgument = ("toolset", Schema.string("Toolset name from list_toolsets.", maxLength: 100))

    static let all: [QlikTool] = [
        QlikTool(
            name: "list_toolsets", title: "List toolsets",
            description:
                "Lists the toolsets this server offers (apps, data_model, analytics, …) with what each is for and whether it is enabled in this session. Enable one with enable_toolset to see its tools.",
            toolset: "discovery", input: .object("No arguments.", properties: []),
            output: .object(
                "Toolsets.",
                properties: [
                    (
                        "toolsets",
                        .array(
                            "Toolsets.",
                            items: .object(
                                "A toolset.",
                                properties: [
                                    ("name", .string("Name.")), ("description", .string("Purpose.")), ("enabled", .boolean("Enabled in this session.")),
                                    ("tool_count", .integer("Tools in it.", minimum: 0, maximum: 1_000)),
                                ], required: ["name", "description", "enabled", "tool_count"]), maxItems: 100)
                    )
                ], required: ["toolsets"]),
            handler: unreachable),
        QlikTool(
            name: "get_toolset_tools", title: "Tools of a toolset",
            description: "Lists the tools of one toolset with their descriptions, without enabling it. Use it to decide which toolset to enable.",
            toolset: "discovery", input: .object("Arguments.", properties: [toolsetArgument], required: ["toolset"]),
            output: .object(
                "Tools.",
                properties: [
                    ("toolset", .string("Toolset.")),
                    (
                        "tools",
                        .array(
                            "Tools.",
                            items: .object(
                                "A tool.",
                                properties: [
                                    ("name", .string("Tool name.")), ("description", .string("What it does.")),
                                ], required: ["name", "description"]), maxItems: 1_000)
                    ),
                ], required: ["toolset", "tools"]),
            handler: unreachable),
        QlikTool(
            name: "enable_toolset", title: "Enable a toolset",
            description: "Enables a toolset for this session: its tools appear in the tool list (the server announces the change).",
            toolset: "discovery", input: .object("Arguments.", properties: [toolsetArgument], required: ["toolset"]),
            output: .object(
                "Result.",
                properties: [
                    ("toolset", .string("Toolset.")), ("enabled", .boolean("Enabled.")),
                    ("newly_enabled", .boolean("False when it was already enabled.")),
                ], required: ["toolset", "enabled", "newly_enabled"]),
            handler: unreachable),
    ]

    /// Discovery tools are run by `ToolSession`, which holds the session state they change.
    private static let unreachable: @Sendable (ToolArguments, ToolContext) async throws -> ToolOutput = { _, _ in
        throw ToolError(
            code: "DISCOVERY_OUTSIDE_SESSION", category: .unsupported, message: "discovery tools run inside a tool session",
            remediation: "use the server's dynamic mode")
    }
}
