import ClusterState
import Foundation
import HTTPHardening
import Hummingbird
import HummingbirdCore
import Logging
import MCP
import MCPAuth
import Metrics
import QlikTools
import RateLimiting
import ServiceLifecycle
import Telemetry

/// The server host: runs the MCP sessions over stdio or HTTP, with probes, metrics and graceful
/// shutdown, under swift-service-lifecycle.
public struct MCPHost: Sendable {
    public struct HTTPConfiguration: Sendable {
        public var host = "127.0.0.1"
        public var port = 8080
        public var transport = HTTPTransportOptions.loopback(port: 8080)
        public var debugEndpoints = false
        public var drainTimeout: Duration = .seconds(25)
        public var engineCheckInterval: Duration = .seconds(10)
        /// An engine circuit breaker that is not closed fails `/readyz` (default: it is only reported).
        public var breakerFailsReadiness = false
        /// Authentication of the MCP endpoints; nil serves them without (`--auth none`).
        public var auth: HTTPAuth?
        /// The per-IP limit of the unauthenticated OAuth endpoints (and the limiter deciding it); nil: none.
        public var ipLimit: (limit: RateLimit, limiter: any RateLimiter, metrics: LimitMetrics)?
        /// Shared state in Redis (`--state redis`): sessions, event logs and the bus between
        /// replicas. Nil keeps every session in this process (`--state memory`).
        public var cluster: ClusterState?

        public init() {}
    }

    public let setup: MCPServerSetup
    public let telemetry: TelemetrySystem
    public let health = HealthMonitor()
    public let inFlight = InFlightRequests()
    let logger: Logger

    public init(setup: MCPServerSetup, telemetry: TelemetrySystem, logger: Logger) {
        self.setup = setup
        self.telemetry = telemetry
        self.logger = logger
    }

    /// Serves HTTP until SIGTERM/SIGINT (or cancellation), then drains. `extraServices` run in the
    /// same group (the demo engine), started first and stopped last. `onListening` gets the port.
    public func runHTTP(
        _ configuration: HTTPConfiguration, extraServices: [any Service] = [],
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws {
        MCPRequestMetrics.shared.preregister(transports: ["http", "sse"], protocolVersion: Version.latest)
        Gauge(label: "qlik_mcp_sessions_limit").record(configuration.transport.maxSessions)
        Gauge(label: "process_memory_limit_bytes").record(MemoryLimit.bytes)
        let registry = SessionRegistry(
            maxSessions: configuration.transport.maxSessions, idleTimeout: configuration.transport.sessionIdleTimeout, cluster: configuration.cluster, logger: logger)
        if configuration.cluster != nil { health.expectRedis() }
        health.watch(setup.registry.resilience, failsReadiness: configuration.breakerFailsReadiness)
        let router = Router(context: MCPRequestContext.self)
        // The HTTP server span of every request (W3C trace context extracted from the headers);
        // MCP request spans are its children. Query parameters that can carry secrets are redacted.
        router.add(middleware: TracingMiddleware(redactingQueryParameters: ["sessionId", "access_token", "code", "state"]))
        router.add(middleware: HTTPMetricsMiddleware())
        router.add(middleware: MCPCORSMiddleware(allowedOrigins: configuration.transport.allowedOrigins))
        if let ipLimit = configuration.ipLimit, configuration.auth?.proxy != nil {
            router.add(middleware: IPRateLimitMiddleware<MCPRequestContext>(limiter: ipLimit.limiter, limit: ipLimit.limit, metrics: ipLimit.metrics))
        }
        MCPHTTPEndpoint(
            setup: setup, options: configuration.transport, registry: registry, inFlight: inFlight,
            auth: configuration.auth.map { MCPAuthGuard(auth: $0) }, logger: logger
        ).register(on: router)
        if let auth = configuration.auth {
            AuthTelemetry.shared.preregister()
            OAuthRoutes(auth: auth).register(on: router)
        }
        OperationalRoutes(telemetry: telemetry, health: health, debugEndpoints: configuration.debugEndpoints).register(on: router)
        let logger = self.logger
        let app = Application(
            router: router,
            server: HTTPServerBuilder { responder in HTTPParseErrorGuard(HTTP1Channel(responder: responder)) },
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "qlik-mcp"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.port
                logger.info(
                    "mcp server listening",
                    metadata: [
                        SemanticAttributes.serverAddress: .string(configuration.host), SemanticAttributes.serverPort: .stringConvertible(port),
                        SemanticAttributes.urlFull: .string("http://\(configuration.host):\(port)/mcp"),
                    ])
                await onListening(port)
            },
            logger: Logger(label: "qlik-mcp.http") { _ in SwiftLogNoOpLogHandler() })
        let checker = EngineHealthChecker(backend: setup.backend, health: health, interval: configuration.engineCheckInterval, timeout: .seconds(3))
        let drain = DrainCoordinator(health: health, registry: registry, inFlight: inFlight, timeout: configuration.drainTimeout, logger: logger)
        let sweeper = SessionSweeper(registry: registry, interval: .seconds(min(60, max(1, configuration.transport.sessionIdleTimeout.components.seconds / 4))))
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = extraServices.map { .init(service: $0) }
        if let cluster = configuration.cluster {
            services.append(.init(service: RedisHealthChecker(cluster: cluster, health: health, interval: .seconds(2))))
        }
        services += [.init(service: app), .init(service: checker), .init(service: sweeper), .init(service: drain)]
        let group = ServiceGroup(
            configuration: .init(
                services: services,
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    /// Serves one session over stdin/stdout until EOF or SIGTERM/SIGINT; a message (line) longer
    /// than `maxMessageBytes` ends the session.
    public func runStdio(drainTimeout: Duration = .seconds(25), maxMessageBytes: Int = 1 << 20, extraServices: [any Service] = []) async throws {
        let checker = EngineHealthChecker(backend: setup.backend, health: health, interval: .seconds(30), timeout: .seconds(3))
        let session = StdioSessionService(setup: setup, inFlight: inFlight, drainTimeout: drainTimeout, maxLineBytes: maxMessageBytes, logger: logger)
        let group = ServiceGroup(
            configuration: .init(
                services: extraServices.map { .init(service: $0) } + [
                    .init(service: checker),
                    .init(service: session, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

/// The stdio session: MCP messages on stdout only, ends on EOF (or shutdown, after in-flight calls).
struct StdioSessionService: Service {
    let setup: MCPServerSetup
    let inFlight: InFlightRequests
    let drainTimeout: Duration
    let maxLineBytes: Int
    let logger: Logger

    func run() async throws {
        let session = await setup.makeSession(sessionID: "stdio")
        let server = session.server
        MCPRequestMetrics.shared.sessionOpened(transport: "stdio")
        defer { MCPRequestMetrics.shared.sessionClosed(transport: "stdio") }
        let transport: any Transport
        do {
            transport = try await PipeStdioTransport(maxLineBytes: maxLineBytes, logger: logger)
        } catch {
            // stdin or stdout is a regular file or /dev/null: the SDK's polling transport copes with those.
            logger.debug("stdio is not a pipe; using the SDK's stdio transport", metadata: .error(error))
            transport = StdioTransport(logger: logger)
        }
        try await server.start(
            transport: InstrumentedTransport(
                transport, sessionID: "stdio", networkTransport: "pipe", inFlight: inFlight,
                directToolCalls: session.directToolCalls, answerAfterEndOfInput: drainTimeout, logger: logger))
        await withGracefulShutdownHandler {
            await server.waitUntilCompleted()
        } onGracefulShutdown: {
            Task {
                _ = await inFlight.drained(within: drainTimeout)
                await server.stop()
            }
        }
        await server.stop()
    }
}

/// On shutdown: readiness fails, no new sessions, in-flight requests finish (bounded), streams
/// close (clients resume elsewhere), and — in memory — the sessions end.
struct DrainCoordinator: Service {
    let health: HealthMonitor
    let registry: SessionRegistry
    let inFlight: InFlightRequests
    let timeout: Duration
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        health.startDraining()
        await registry.startDraining()
        let waiting = inFlight.count
        logger.info("draining", metadata: ["qlik_mcp.in_flight": .stringConvertible(waiting), "qlik_mcp.drain_timeout_s": .stringConvertible(timeout.seconds)])
        if await !inFlight.drained(within: timeout) { logger.warning("drain timeout: requests still in flight are abandoned", metadata: ["qlik_mcp.in_flight": .stringConvertible(inFlight.count)]) }
        await registry.closeStreams()
        // With Redis the sessions live on in the other replicas, and a request that reached this
        // one after the in-flight count was read must still be answered here (the HTTP server
        // stops after this and waits for it): the local copies stay until the process ends.
        // In memory the sessions end with the process, so they are ended now.
        if registry.cluster == nil { await registry.removeAll() }
    }
}

/// Expires idle sessions periodically.
struct SessionSweeper: Service {
    let registry: SessionRegistry
    let interval: Duration

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: interval)
                await registry.expireIdle()
            }
        }
    }
}

/// The memory this process may use: the cgroup limit (v2 `memory.max`, v1 `memory.limit_in_bytes`)
/// when there is one, else the machine's physical memory — exported as `process_memory_limit_bytes`
/// so the memory alert divides by a real number everywhere.
enum MemoryLimit {
    static var bytes: Double {
        for path in ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"] {
            if let text = try? String(contentsOfFile: path, encoding: .utf8), let value = Double(text.trimmingCharacters(in: .whitespacesAndNewlines)),
                value > 0, value < Double(ProcessInfo.processInfo.physicalMemory)
            {
                return value
            }
        }
        return Double(ProcessInfo.processInfo.physicalMemory)
    }
}
