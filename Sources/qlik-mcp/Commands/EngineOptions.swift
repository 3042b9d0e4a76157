import ArgumentParser
import DemoEngine
import DemoWiring
import Foundation
import Logging
import MCPServerHost
import QlikEngine
import QlikTools
import ServerSettings
import ServiceLifecycle

/// Which engine the tools use: the embedded demo engine (default) or a Qlik deployment.
/// Every option also reads a `QLIK_MCP_*` environment variable (the flag wins).
struct EngineOptions: ParsableArguments {
    @Flag(help: "Use the embedded demo engine (the default when no --engine is given).") var demo = false
    @Option(
        help: ArgumentHelp("Qlik engine: ws://host:port (Desktop), wss://host[:port] (Enterprise, with --cert/--key), https://tenant (Cloud, with --api-key). Env: QLIK_MCP_ENGINE.", valueName: "url"))
    var engine: String?
    @Option(help: ArgumentHelp("Client certificate (PEM file) for Enterprise. Env: QLIK_MCP_CLIENT_CERT.", valueName: "path")) var cert: String?
    @Option(help: ArgumentHelp("Client key (PEM file) for Enterprise. Env: QLIK_MCP_CLIENT_KEY.", valueName: "path")) var key: String?
    @Option(help: ArgumentHelp("CA certificate (PEM file) to trust. Env: QLIK_MCP_CA_CERT.", valueName: "path")) var ca: String?
    @Option(help: ArgumentHelp("Enterprise user directory for X-Qlik-User. Env: QLIK_MCP_USER_DIRECTORY.", valueName: "name")) var userDirectory: String?
    @Option(help: ArgumentHelp("Enterprise user id for X-Qlik-User. Env: QLIK_MCP_USER_ID.", valueName: "name")) var userID: String?
    @Option(help: ArgumentHelp("Qlik Cloud API key; prefer the env variable QLIK_MCP_API_KEY so it stays out of process lists.", valueName: "key"))
    var apiKey: String?

    @Option(help: ArgumentHelp("Demo engine only: add this much latency to every QIX response (to try timeouts and draining). Env: QLIK_MCP_DEMO_LATENCY_MS.", valueName: "ms", visibility: .hidden))
    var demoLatencyMs: Int?

    func usesDemo(_ file: ServerConfigFile) -> Bool {
        demo || (value(engine, "QLIK_MCP_ENGINE") == nil && (file.demo == true || file.engineURL == nil))
    }

    /// flag, else environment variable, else the config file's value.
    func value(_ flag: String?, _ variable: String, _ fileValue: String? = nil) -> String? {
        if let flag, !flag.isEmpty { return flag }
        if let env = ProcessEnvironment.current[variable], !env.isEmpty { return env }
        return fileValue
    }

    func validate() throws {
        if demo && engine != nil { throw ValidationError("--demo and --engine exclude each other") }
    }

    /// The configured (non-demo) endpoint.
    func endpoint(_ file: ServerConfigFile) throws -> QIXEndpoint {
        let raw = value(engine, "QLIK_MCP_ENGINE", file.engineURL) ?? ""
        guard let url = URLComponents(string: raw), let scheme = url.scheme?.lowercased(), let host = url.host, !host.isEmpty else {
            throw ValidationError("--engine '\(raw)' is not a URL; use ws://host:port, wss://host or https://tenant")
        }
        do {
            switch scheme {
            case "ws":
                return .desktop(host: host, port: url.port ?? 4848)
            case "wss":
                return try .enterprise(
                    host: host, port: url.port ?? 4747,
                    certificates: .init(
                        clientCertificate: value(cert, "QLIK_MCP_CLIENT_CERT", file.cert), clientKey: value(key, "QLIK_MCP_CLIENT_KEY", file.key),
                        rootCA: value(ca, "QLIK_MCP_CA_CERT", file.ca)),
                    userDirectory: value(userDirectory, "QLIK_MCP_USER_DIRECTORY", file.userDirectory) ?? "",
                    userID: value(userID, "QLIK_MCP_USER_ID", file.userID) ?? "")
            case "https":
                let fromFile = file.apiKeyEnv.flatMap { ProcessEnvironment.current[$0] }
                guard let apiKey = value(apiKey, "QLIK_MCP_API_KEY", fromFile) else {
                    throw ValidationError("Qlik Cloud needs an API key: set QLIK_MCP_API_KEY (or --api-key, or engine.api_key_env in the config file)")
                }
                return try .cloud(tenant: host, apiKey: apiKey, port: url.port, rootCA: value(ca, "QLIK_MCP_CA_CERT", file.ca))
            default:
                throw ValidationError("--engine scheme '\(scheme)' is not supported; use ws:// (Desktop), wss:// (Enterprise) or https:// (Cloud)")
            }
        } catch let error as QIXClientError {
            throw ValidationError(error.description)
        }
    }

    /// Starts the demo engine when needed and returns the backend plus a function that stops the
    /// demo engine gracefully (a no-op for real engines).
    func makeBackend(
        logger: Logger, file: ServerConfigFile = ServerConfigFile(), requestTimeout: Duration = .seconds(30)
    ) async throws -> (QlikBackend, @Sendable () async -> Void) {
        var poolConfiguration = QIXConnectionPool.Configuration()
        poolConfiguration.connection.requestTimeout = requestTimeout
        poolConfiguration.connection.connectTimeout = min(poolConfiguration.connection.connectTimeout, max(requestTimeout, .seconds(1)))
        let pool = QIXConnectionPool(configuration: poolConfiguration)
        if usesDemo(file) {
            let latency = Int(value(demoLatencyMs.map(String.init), "QLIK_MCP_DEMO_LATENCY_MS") ?? "0") ?? 0
            guard (0...60_000).contains(latency) else { throw ValidationError("--demo-latency-ms must be between 0 and 60000") }
            // Fault injection for drills and the alerting checks (hidden; environment only).
            let errorRate = Double(ProcessEnvironment.current["QLIK_MCP_DEMO_ERROR_RATE"] ?? "0") ?? 0
            guard (0...1).contains(errorRate) else { throw ValidationError("QLIK_MCP_DEMO_ERROR_RATE must be between 0 and 1") }
            let errorMethods = ToolFilterOptions.list(ProcessEnvironment.current["QLIK_MCP_DEMO_ERROR_METHODS"]) ?? []
            let demo = DemoBackend(
                faults: FaultController(FaultInjection(latency: .milliseconds(latency), errorRate: errorRate, errorMethods: errorMethods)),
                logger: logger)
            let group = ServiceGroup(configuration: .init(services: [demo.server], logger: logger))
            let task = Task { try await group.run() }
            return (
                await demo.backend(pool: pool),
                {
                    await group.triggerGracefulShutdown()
                    _ = await task.result
                }
            )
        }
        let endpoint = try endpoint(file)
        let kind: String
        switch endpoint.deployment {
        case .desktop: kind = "desktop"
        case .enterprise: kind = "enterprise"
        case .cloud: kind = "cloud"
        }
        return (QlikBackend(kind: kind, endpoint: endpoint, pool: pool), {})
    }
}

/// Which tools are exposed. Env: QLIK_MCP_TOOLSETS, QLIK_MCP_DISABLE_TOOLS, QLIK_MCP_READ_ONLY,
/// QLIK_MCP_DYNAMIC_TOOLSETS.
struct ToolFilterOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Comma-separated toolsets to expose (apps, data_model, analytics, visualization, governance, admin). Default: all.", valueName: "list"))
    var toolsets: String?
    @Option(help: ArgumentHelp("Comma-separated tools to hide, e.g. reload_app.", valueName: "list")) var disableTools: String?
    @Flag(help: "Hide every tool that is not read-only (reload_app).") var readOnly = false
    @Flag(help: "Dynamic mode: list only list_toolsets, get_toolset_tools and enable_toolset until the client enables a toolset.")
    var dynamicToolsets = false

    static func list(_ text: String?) -> Set<String>? {
        guard let text, !text.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
        return Set(text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
    }

    static func flag(_ value: Bool, _ variable: String) -> Bool {
        value || ["1", "true", "yes", "on"].contains(ProcessEnvironment.current[variable]?.lowercased() ?? "")
    }

    var isDynamic: Bool { Self.flag(dynamicToolsets, "QLIK_MCP_DYNAMIC_TOOLSETS") }

    /// The registry of the standard toolsets plus `extra` (the cache's `admin` toolset), filtered.
    func registry(file: ServerConfigFile = ServerConfigFile(), extra: [Toolset] = []) throws -> ToolRegistry {
        let env = ProcessEnvironment.current
        do {
            return try ToolRegistry(
                toolsets: StandardToolsets.all + extra,
                filter: .init(
                    toolsets: Self.list(toolsets ?? env["QLIK_MCP_TOOLSETS"]) ?? file.toolsets.map(Set.init),
                    disabledTools: Self.list(disableTools ?? env["QLIK_MCP_DISABLE_TOOLS"]) ?? file.disableTools.map(Set.init) ?? [],
                    readOnly: Self.flag(readOnly, "QLIK_MCP_READ_ONLY") || file.readOnly == true))
        } catch let error as ArgumentError {
            throw ValidationError("--\(error.field): \(error.message)")
        }
    }
}
