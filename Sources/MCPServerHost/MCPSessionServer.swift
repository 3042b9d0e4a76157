import Foundation
import JSONCore
import Logging
import MCP
import MCPAuth
import QlikTools
import ServiceContextModule
import Telemetry

/// What every MCP session of this process shares: the backend, the tool registry, the tool mode.
public struct MCPServerSetup: Sendable {
    public let backend: QlikBackend
    public let registry: ToolRegistry
    /// Dynamic mode: only the discovery tools until the client enables a toolset.
    public let dynamicToolsets: Bool
    public let resources: ResourceCatalog
    /// Hybrid mode: each authenticated user reaches the engine as their own Qlik user.
    public var identityMapping: QlikIdentityMapping?

    public init(backend: QlikBackend, registry: ToolRegistry, dynamicToolsets: Bool, identityMapping: QlikIdentityMapping? = nil) throws {
        self.backend = backend
        self.identityMapping = identityMapping
        self.registry = registry
        self.dynamicToolsets = dynamicToolsets
        self.resources = try ResourceCatalog()
    }

    static let instructions = """
        Tools for exploring Qlik Sense apps: start with list_apps to get an app_id, then get_app / get_data_model to see \
        what is in it, list_measures / list_dimensions for the governed business logic, and query_data or \
        evaluate_expression to compute numbers. Selections (select_values) persist for this session only.
        """

    /// The backend a session of `principal` uses (its mapped Qlik user in hybrid mode).
    public func backend(for principal: Principal?) throws -> QlikBackend {
        try identityMapping?.backend(for: principal, base: backend) ?? backend
    }

    /// An MCP server (official SDK) for one session, with the Qlik tools, resources and prompts,
    /// plus the `tools/call` path its transport uses (see `DirectToolCalls`; the SDK server has
    /// no `tools/call` handler) and the session's tool set. With a `principal`, tools are limited to its scopes and its pseudonym
    /// is set on every tool span (`enduser.pseudo.id`).
    public func makeSession(sessionID: String, backend: QlikBackend? = nil, principal: Principal? = nil) async -> HostedSession {
        let server = Server(
            name: "qlik-mcp", version: QlikMCPVersion.current, title: "Qlik Sense MCP server",
            instructions: Self.instructions,
            capabilities: .init(
                prompts: .init(listChanged: false), resources: .init(subscribe: false, listChanged: false),
                tools: .init(listChanged: true)),
            configuration: .default)
        let context = ToolContext(backend: backend ?? self.backend, sessionID: sessionID, principalID: principal?.pseudonym)
        let tools = ToolSession(registry: registry, dynamic: dynamicToolsets, context: context)
        if let principal { await tools.restrict(to: principal.scopes) }
        let resources = self.resources

        await server.withMethodHandler(ListTools.self) { _ in
            ListTools.Result(tools: await tools.definitions)
        }
        // The handlers hold the server weakly: a strong reference would keep every session alive.
        let weak = WeakServer(server)
        let calls = ToolCallRunner(tools: tools, sessionID: sessionID, server: weak)
        await server.withMethodHandler(ListResources.self) { _ in ListResources.Result(resources: [ResourceCatalog.apps]) }
        await server.withMethodHandler(ListResourceTemplates.self) { _ in ListResourceTemplates.Result(templates: ResourceCatalog.templates) }
        await server.withMethodHandler(ReadResource.self) { params in
            do {
                return ReadResource.Result(contents: try await Self.protocolErrors { try await resources.read(params.uri, context: context) })
            } catch let error as ToolError {
                throw MCPError.internalError("\(error.category.rawValue): \(error.message). \(error.remediation)")
            }
        }
        await server.withMethodHandler(ListPrompts.self) { _ in ListPrompts.Result(prompts: PromptCatalog.prompts) }
        await server.withMethodHandler(GetPrompt.self) { params in
            try await Self.protocolErrors { try PromptCatalog.get(params.name, arguments: params.arguments ?? [:]) }
        }
        return HostedSession(
            server: server, directToolCalls: DirectToolCalls(runner: calls), tools: tools,
            spanAttributes: principal.map { ["enduser.pseudo.id": $0.pseudonym] } ?? [:])
    }

    /// Argument errors become JSON-RPC -32602 errors that name the field.
    static func protocolErrors<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as ArgumentError {
            throw MCPError.invalidParams(error.description)
        }
    }
}

/// One MCP session as the host runs it.
public struct HostedSession: Sendable {
    public let server: Server
    public let directToolCalls: DirectToolCalls
    public let tools: ToolSession
    /// Attributes for every request span of the session (the caller's pseudonym, with auth).
    public let spanAttributes: [String: String]
}

/// A weak reference to a session's server, for handlers the server itself holds.
final class WeakServer: Sendable {
    weak let server: Server?

    init(_ server: Server) {
        self.server = server
    }
}
