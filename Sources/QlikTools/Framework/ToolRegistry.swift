import Foundation
import JSONCore
import Logging
import MCP
import Metrics
import QlikEngine
import Resilience
import Tracing

/// The tool catalogue with its filters: enabled toolsets, disabled tools and read-only mode.
/// Produces MCP tool definitions and runs calls with validation, instrumentation and the error
/// taxonomy (argument errors are protocol errors; tool failures are `isError` results).
public struct ToolRegistry: Sendable {
    public struct Filter: Sendable {
        /// Toolsets to expose; nil means all.
        public var toolsets: Set<String>?
        public var disabledTools: Set<String> = []
        /// Hide every tool that is not read-only.
        public var readOnly = false

        public init(toolsets: Set<String>? = nil, disabledTools: Set<String> = [], readOnly: Bool = false) {
            self.toolsets = toolsets
            self.disabledTools = disabledTools
            self.readOnly = readOnly
        }
    }

    public let toolsets: [Toolset]
    public let filter: Filter
    private let byName: [String: QlikTool]
    /// The cache layer calls go through (`ToolCache`); nil runs every call on the engine.
    public var cache: (any ToolResultCache)?
    /// Breakers and retries around the calls that reach the engine; nil: none.
    public var resilience: ToolResilience?
    /// Where idempotency keys of writes and reloads are kept (`_meta.idempotencyKey`); nil: keys
    /// are ignored and writes are never retried.
    public var idempotency: Idempotency?
    /// Rate limits (every call) and the engine's concurrency limit (calls that reach it); nil: none.
    public var limits: ToolLimits?

    public init(toolsets: [Toolset] = StandardToolsets.all, filter: Filter = Filter()) throws {
        let known = Set(toolsets.map(\.name))
        for name in filter.toolsets ?? [] where !known.contains(name) {
            throw ArgumentError(field: "toolsets", message: "unknown toolset '\(name)'; toolsets: \(toolsets.map(\.name).joined(separator: ", "))")
        }
        let allTools = Set(toolsets.flatMap { $0.tools.flatMap { [$0.name] + $0.deprecatedNames } })
        for name in filter.disabledTools where !allTools.contains(name) {
            throw ArgumentError(field: "disable-tools", message: "unknown tool '\(name)'")
        }
        self.toolsets = toolsets
        self.filter = filter
        var byName: [String: QlikTool] = [:]
        for toolset in toolsets where filter.toolsets?.contains(toolset.name) ?? true {
            for tool in toolset.tools where !filter.disabledTools.contains(tool.name) && (!filter.readOnly || tool.readOnly) {
                byName[tool.name] = tool
                for old in tool.deprecatedNames where !filter.disabledTools.contains(old) { byName[old] = tool.deprecatedAlias(old) }
            }
        }
        self.byName = byName
    }

    /// The exposed tools, in catalogue order; a deprecated alias follows its tool.
    public var tools: [QlikTool] {
        toolsets.flatMap(\.tools).flatMap { tool in ([tool.name] + tool.deprecatedNames).compactMap { byName[$0] } }
    }

    public func tool(named name: String) -> QlikTool? { byName[name] }

    /// MCP definitions of the exposed tools.
    public var definitions: [Tool] { Self.definitions(of: tools) }

    /// MCP definitions of `tools`.
    public static func definitions(of tools: [QlikTool]) -> [Tool] {
        tools.map { tool in
            Tool(
                name: tool.name, title: tool.title, description: tool.description,
                inputSchema: ValueBridge.value(tool.input.json),
                annotations: .init(
                    title: tool.title, readOnlyHint: tool.readOnly, destructiveHint: tool.destructive,
                    idempotentHint: tool.idempotent, openWorldHint: false),
                outputSchema: ValueBridge.value(tool.output.outputJSON),
                _meta: Metadata(
                    additionalFields: [
                        "version": .string(tool.version), "toolset": .string(tool.toolset),
                        "deprecated": .bool(tool.replacement != nil),
                    ]
                    .merging(tool.replacement.map { ["replacedBy": .string($0)] } ?? [:]) { a, _ in a }))
        }
    }

    /// Runs a tool. Throws `ArgumentError` (→ JSON-RPC -32602) for an unknown tool or arguments
    /// that do not match the schema; every other failure is returned as an `isError` result.
    public func call(_ name: String, arguments: JSONValue?, context: ToolContext) async throws -> CallTool.Result {
        guard let tool = byName[name] else {
            let suggestion = Suggestions.closest(to: name, in: Array(byName.keys)).map { " — did you mean '\($0)'?" } ?? ""
            throw ArgumentError(field: "name", message: "unknown tool '\(name)'\(suggestion)")
        }
        let validated = try ToolArguments(arguments, schema: tool.input)
        if let appID = validated.string("app_id"), !appID.isEmpty { ToolInstrumentation.shared.recordAppAccess(appID) }
        let base = tool.handler
        let keyed = ToolIdempotency.applies(tool, context, idempotency)
        var handler: @Sendable (ToolArguments, ToolContext) async throws -> ToolOutput = base
        if let resilience {
            let inner = handler
            handler = { arguments, context in
                try await resilience.run(tool, context: context, arguments: arguments, keyed: keyed) { try await inner(arguments, context) }
            }
        }
        let limits = self.limits
        if let limits, limits.concurrency != nil {
            let inner = handler
            handler = { arguments, context in try await limits.run(tool) { try await inner(arguments, context) } }
        }
        let cache = self.cache
        let run = handler
        let compute: @Sendable () async -> CachedCall = {
            guard let cache else { return await CachedCall.capture { try await run(validated, context) } }
            return await cache.run(tool, arguments: validated, context: context) { try await run(validated, context) }
        }
        let idempotency = keyed ? self.idempotency : nil
        return try await EngineGate.$current.withValue(resilience?.gate) {
            try await CallDeadline.$current.withValue(context.deadline) {
                try await ToolInstrumentation.shared.run(tool: tool, context: context) {
                    if let limits {
                        do { try await limits.admit(tool, context: context) } catch { return CachedCall(.failure(error), report: nil) }
                    }
                    guard let idempotency else { return await compute() }
                    return await ToolIdempotency.run(tool, arguments: validated, context: context, idempotency: idempotency, compute)
                }
            }
        }
    }
}

/// Converts between `JSONValue` (our wire type) and the MCP SDK's `Value`.
public enum ValueBridge {
    public static func value(_ json: JSONValue) -> Value {
        switch json {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .number(let n): return n.rounded() == n && abs(n) < 9e15 ? .int(Int(n)) : .double(n)
        case .string(let s): return .string(s)
        case .array(let a): return .array(a.map(value))
        case .object(let o): return .object(o.mapValues(value))
        }
    }

    public static func json(_ value: Value) -> JSONValue {
        switch value {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return .number(Double(i))
        case .double(let d): return .number(d)
        case .string(let s): return .string(s)
        case .data(_, let data): return .string(data.base64EncodedString())
        case .array(let a): return .array(a.map(json))
        case .object(let o): return .object(o.mapValues(json))
        }
    }
}
