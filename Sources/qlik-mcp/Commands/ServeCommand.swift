import ArgumentParser
import Foundation
import Logging
import MCPAuth
import MCPServerHost
import QlikTools
import RateLimiting
import ServerSettings
import Telemetry
import ToolCache

/// `qlik-mcp serve`: the MCP server over stdio or HTTP.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the MCP server (stdio, or Streamable HTTP + legacy SSE with /metrics and health probes).",
        discussion: """
            Without --engine the embedded demo engine is started in-process, so this works without any Qlik installation.
            Every flag has an environment variable: QLIK_MCP_<FLAG> in upper case with underscores (QLIK_MCP_PORT, \
            QLIK_MCP_TRANSPORT, QLIK_MCP_READ_ONLY=true, …).

            Examples:
              qlik-mcp serve --demo                         # stdio, for Claude Desktop and other local clients
              qlik-mcp serve --demo --transport http        # http://127.0.0.1:8080/mcp (and /sse, /metrics, /readyz)
              QLIK_MCP_API_KEY=… qlik-mcp serve --engine https://acme.eu.qlikcloud.com --transport http --read-only
            """
    )

    @Option(help: ArgumentHelp("stdio or http. Env: QLIK_MCP_TRANSPORT.", valueName: "transport")) var transport: String?
    @Option(help: ArgumentHelp("Interface to listen on (http). Env: QLIK_MCP_HOST.", valueName: "address")) var host: String?
    @Option(help: ArgumentHelp("TCP port (http; 0 picks a free one). Env: QLIK_MCP_PORT.", valueName: "port")) var port: Int?
    @Option(help: ArgumentHelp("Most concurrent HTTP sessions (503 with Retry-After beyond). Env: QLIK_MCP_MAX_SESSIONS.", valueName: "n")) var maxSessions: Int?
    @Option(help: ArgumentHelp("Seconds an HTTP session may stay idle before it is closed. Env: QLIK_MCP_SESSION_IDLE_TIMEOUT.", valueName: "seconds")) var sessionIdleTimeout: Int?
    @Option(help: ArgumentHelp("Largest request body in bytes (413 beyond). Env: QLIK_MCP_MAX_BODY_BYTES.", valueName: "bytes")) var maxBodyBytes: Int?
    @Option(help: ArgumentHelp("Seconds before a request is cancelled and answered with an error. Env: QLIK_MCP_REQUEST_TIMEOUT.", valueName: "seconds")) var requestTimeout: Int?
    @Option(help: ArgumentHelp("Seconds in-flight requests get to finish on SIGTERM. Env: QLIK_MCP_DRAIN_TIMEOUT.", valueName: "seconds")) var drainTimeout: Int?
    @Option(help: ArgumentHelp("Comma-separated Host values accepted (host:* for any port). Default on loopback: localhost names. Env: QLIK_MCP_ALLOWED_HOSTS.", valueName: "list")) var allowedHosts:
        String?
    @Option(help: ArgumentHelp("Comma-separated browser Origins accepted (http://host:* for any port). Env: QLIK_MCP_ALLOWED_ORIGINS.", valueName: "list")) var allowedOrigins: String?
    @Flag(help: "Serve /debug/traces (recent spans as JSON and HTML). Env: QLIK_MCP_DEBUG_ENDPOINTS.") var debugEndpoints = false
    @Flag(help: "Fail /readyz while an engine circuit breaker is open (default: report it only). Env: QLIK_MCP_READY_FAILS_ON_OPEN_BREAKER.")
    var readyFailsOnOpenBreaker = false
    @Option(help: ArgumentHelp("A YAML or JSON settings file (see README, \"The server\"); flags and environment variables win over it. Env: QLIK_MCP_CONFIG.", valueName: "path"))
    var config: String?
    @OptionGroup var engine: EngineOptions
    @OptionGroup var tools: ToolFilterOptions
    @OptionGroup var telemetry: TelemetryOptions
    @OptionGroup(title: "Authentication (HTTP)") var authentication: AuthOptions
    @OptionGroup(title: "Shared state (HTTP, several replicas)") var sharedState: StateOptions
    @OptionGroup(title: "Tool cache") var caching: CacheOptions
    @OptionGroup(title: "Failure handling") var failures: ResilienceOptions
    @OptionGroup(title: "Limits") var limits: RateLimitOptions

    private func env(_ name: String) -> String? { ProcessEnvironment.current[name].flatMap { $0.isEmpty ? nil : $0 } }

    /// flag, else environment variable, else the config file, else the default.
    private func int(_ flag: Int?, _ variable: String, file: Int?, default fallback: Int, range: ClosedRange<Int>, name: String) throws -> Int {
        let value: Int
        if let flag {
            value = flag
        } else if let text = env(variable) {
            guard let parsed = Int(text) else { throw ValidationError("\(variable)='\(text)' is not a whole number") }
            value = parsed
        } else {
            value = file ?? fallback
        }
        guard range.contains(value) else { throw ValidationError("--\(name) must be between \(range.lowerBound) and \(range.upperBound) (got \(value))") }
        return value
    }

    func run() async throws {
        var file = ServerConfigFile()
        if let path = config ?? env("QLIK_MCP_CONFIG") {
            do {
                file = try ServerConfigFile.load(path: path)
            } catch let error as ServerConfigFile.Error {
                throw ValidationError(error.description)
            }
        }
        let mode = (transport ?? env("QLIK_MCP_TRANSPORT") ?? file.transport ?? "stdio").lowercased()
        guard mode == "stdio" || mode == "http" else { throw ValidationError("--transport must be stdio or http (got '\(mode)')") }
        var http = MCPHost.HTTPConfiguration()
        http.host = host ?? env("QLIK_MCP_HOST") ?? file.host ?? "127.0.0.1"
        http.port = try int(port, "QLIK_MCP_PORT", file: file.port, default: 8080, range: 0...65535, name: "port")
        let loopback = ["127.0.0.1", "localhost", "::1"].contains(http.host)
        var options = loopback ? HTTPTransportOptions.loopback(port: http.port) : HTTPTransportOptions()
        options.maxSessions = try int(maxSessions, "QLIK_MCP_MAX_SESSIONS", file: file.maxSessions, default: 10_000, range: 1...1_000_000, name: "max-sessions")
        options.sessionIdleTimeout = .seconds(
            try int(sessionIdleTimeout, "QLIK_MCP_SESSION_IDLE_TIMEOUT", file: file.sessionIdleTimeout, default: 1_800, range: 1...86_400, name: "session-idle-timeout"))
        options.maxBodyBytes = try int(maxBodyBytes, "QLIK_MCP_MAX_BODY_BYTES", file: file.maxBodyBytes, default: 1 << 20, range: 1_024...(64 << 20), name: "max-body-bytes")
        options.requestTimeout = .seconds(try int(requestTimeout, "QLIK_MCP_REQUEST_TIMEOUT", file: file.requestTimeout, default: 300, range: 1...7_200, name: "request-timeout"))
        if let hosts = ToolFilterOptions.list(allowedHosts ?? env("QLIK_MCP_ALLOWED_HOSTS")) ?? file.allowedHosts.map(Set.init) { options.allowedHosts = hosts.sorted() }
        if let origins = ToolFilterOptions.list(allowedOrigins ?? env("QLIK_MCP_ALLOWED_ORIGINS")) ?? file.allowedOrigins.map(Set.init) { options.allowedOrigins = origins.sorted() }
        http.transport = options
        http.drainTimeout = .seconds(try int(drainTimeout, "QLIK_MCP_DRAIN_TIMEOUT", file: file.drainTimeout, default: 25, range: 0...3_600, name: "drain-timeout"))
        http.debugEndpoints = ToolFilterOptions.flag(debugEndpoints, "QLIK_MCP_DEBUG_ENDPOINTS") || file.debugEndpoints == true
        http.breakerFailsReadiness =
            ToolFilterOptions.flag(readyFailsOnOpenBreaker, "QLIK_MCP_READY_FAILS_ON_OPEN_BREAKER") || file.resilience.readyFailsOnOpenBreaker == true
        // Validates the tool filter before anything starts (the cache's admin toolset included).
        _ = try tools.registry(file: file, extra: [CacheAdminTools.toolset(nil)])
        let cacheSettings = try caching.settings(file.cache, stateMode: try sharedState.mode(file.state))
        let resilienceSettings = try failures.settings(file.resilience)
        let resilienceOn = try failures.enabled(file.resilience)
        let limitSettings = try limits.settings(file.limits)
        let ipLimit = try limits.ipLimit(file.limits)
        let engineTimeout = try failures.engineRequestTimeout(file.resilience)
        let dynamic = tools.isDynamic || file.dynamic == true

        let system = try TelemetrySystem(configuration: telemetry.makeConfiguration())
        system.bootstrapGlobalSystems()
        let logger = Logger(label: "qlik-mcp.server")
        let authSettings = try authentication.settings(file.auth)
        if mode == "http" && !loopback && authSettings.mode == .none {
            guard authentication.allowsInsecureNoAuth(file.auth) else {
                throw ValidationError("refusing to serve \(http.host) without authentication: use --auth oauth|apikey|oauth+apikey, bind to 127.0.0.1, or pass --insecure-no-auth")
            }
            logger.warning(
                "listening on a non-loopback interface without authentication (--insecure-no-auth): anyone who can reach this port can use the tools",
                metadata: ["host": .string(http.host)])
        }
        if mode == "stdio", try sharedState.mode(file.state) == "redis" {
            throw ValidationError("--state redis is for --transport http (a stdio session belongs to one process)")
        }
        if mode == "http" {
            http.cluster = try await sharedState.makeCluster(file.state, idleTimeout: http.transport.sessionIdleTimeout, logger: logger)
            let listenHost = http.host.contains(":") ? "[\(http.host)]" : http.host
            do {
                http.auth = try await HTTPAuth.make(
                    authSettings, listenURL: "http://\(listenHost):\(http.port)", stateStore: http.cluster?.authStore, logger: logger)
            } catch {
                throw ValidationError(error.description)
            }
            if http.auth != nil, http.port == 0, authSettings.publicURL == nil {
                throw ValidationError("with --auth and --port 0 give --public-url: the metadata must name the port clients use")
            }
        }
        let limiter = try limits.limiter(cluster: http.cluster, file: file.limits, logger: logger)
        let limitMetrics = LimitMetrics()
        limitMetrics.prepare(scopes: ["ip"])
        if mode == "http" { http.ipLimit = ipLimit.map { ($0, limiter, limitMetrics) } }
        let sharedTier = try await caching.sharedTier(cacheSettings, cluster: http.cluster, state: sharedState, file: file.state)
        let (backend, stopDemo) = try await engine.makeBackend(logger: Logger(label: "qlik-mcp.demo-engine"), file: file, requestTimeout: engineTimeout)
        let cache = ToolCacheLayer(settings: cacheSettings, backend: backend, shared: sharedTier, logger: Logger(label: "qlik-mcp.cache"))
        let deadLetters = try failures.data.deadLetterStore(cluster: http.cluster, fileDirectory: file.resilience.dataDir, logger: logger)
        let resilience = ToolResilience(settings: resilienceSettings, deadLetters: deadLetters)
        var registry = try tools.registry(file: file, extra: [CacheAdminTools.toolset(cache, resilience: resilience)])
        registry.cache = cache
        resilience.preregister(tools: registry.tools)
        if let deadLetters, let depth = try? await deadLetters.count() { resilience.metrics.deadLetterDepth(depth) }
        if resilienceOn {
            registry.resilience = resilience
            await backend.pool.useReconnect(.init(policy: resilienceSettings.retry, budget: { resilience.budget($0) }))
        }
        registry.idempotency = failures.data.idempotency(cluster: http.cluster)
        if limitSettings.hasRateLimits || limitSettings.concurrency != nil {
            registry.limits = ToolLimits(settings: limitSettings, limiter: limiter, metrics: limitMetrics)
        }
        let cacheService = CacheMaintenance(cache: cache, registry: registry)
        var setup = try MCPServerSetup(backend: backend, registry: registry, dynamicToolsets: dynamic)
        if http.auth != nil, let mapping = try authentication.identityMapping(defaultDirectory: engine.userDirectory ?? file.userDirectory, file: file.auth) {
            guard backend.kind == "enterprise" else {
                throw ValidationError("--oauth-identity-claim maps users to X-Qlik-User and needs a Qlik Sense Enterprise engine with certificates (this engine is \(backend.kind))")
            }
            setup.identityMapping = mapping
        }
        let hostService = MCPHost(setup: setup, telemetry: system, logger: logger)
        logger.info(
            "starting",
            metadata: [
                "qlik_mcp.transport": .string(mode), "qlik_mcp.backend": .string(backend.kind), "qlik_mcp.tools": .stringConvertible(registry.tools.count),
                "qlik_mcp.dynamic_toolsets": .stringConvertible(dynamic),
                "qlik_mcp.auth": .string(mode == "http" ? authSettings.mode.rawValue : "local"),
                "qlik_mcp.state": .string(http.cluster == nil ? "memory" : "redis"),
                "qlik_mcp.cache": .string(cacheSettings.mode.rawValue),
            ])
        do {
            if mode == "http" {
                try await hostService.runHTTP(http, extraServices: [cacheService])
            } else {
                try await hostService.runStdio(drainTimeout: http.drainTimeout, maxMessageBytes: http.transport.maxBodyBytes, extraServices: [cacheService])
            }
        } catch {
            logger.error("server stopped with an error", metadata: .error(error))
            await backend.pool.closeIdle()
            await stopDemo()
            _ = await system.shutdown(timeout: .seconds(5))
            throw ExitCode(1)
        }
        await backend.pool.closeIdle()
        await stopDemo()
        let flushed = await system.shutdown(timeout: .seconds(5))
        logger.info("stopped", metadata: ["qlik_mcp.telemetry.flushed": .stringConvertible(flushed.succeeded && flushed.completed)])
    }
}
