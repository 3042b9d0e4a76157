import Foundation
import HTTPHardening
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import HummingbirdWebSocket
import JSONCore
import Logging
import NIOSSL
import QIXWire
import ServiceLifecycle
import Synchronization

/// The demo engine on the wire: QIX (JSON-RPC 2.0) over WebSocket at `ws://host:port/app/<appId>`
/// (and `/app/` for Global-only sessions), one `QIXSession` per socket, requests answered in order.
///
/// Runs as a swift-service-lifecycle `Service`; `listeningPort()` tells the port once bound
/// (use port 0 for an ephemeral one).
public final class DemoEngineServer: Service, Sendable {
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        /// Largest message accepted at the WebSocket layer (bigger closes the socket with 1009).
        public var maxFrameBytes: Int
        /// Largest request the engine processes; bigger ones get a JSON-RPC error and the socket stays open.
        public var maxRequestBytes: Int
        /// Serve `wss://` with this TLS configuration (set `certificateVerification` and
        /// `trustRoots` to require client certificates, as Qlik Sense Enterprise does).
        public var tls: TLSConfiguration?
        /// Most simultaneous WebSocket sessions; further upgrade requests are refused.
        public var maxConnections = 2_000
        /// Decides whether an upgrade request is allowed (e.g. check `Authorization` or
        /// `X-Qlik-User`); nil accepts every request. Refused requests get HTTP 4xx.
        public var authorize: (@Sendable (HTTPFields) -> Bool)?
        /// Per-user data reduction (see `SectionAccess`).
        public var sectionAccess = SectionAccess()

        public init(
            host: String = "127.0.0.1", port: Int = 4848, maxFrameBytes: Int = 16 << 20, maxRequestBytes: Int = 4 << 20,
            tls: TLSConfiguration? = nil, authorize: (@Sendable (HTTPFields) -> Bool)? = nil
        ) {
            self.host = host
            self.port = port
            self.maxFrameBytes = maxFrameBytes
            self.maxRequestBytes = maxRequestBytes
            self.tls = tls
            self.authorize = authorize
        }
    }

    public let catalog: DemoAppCatalog
    public let configuration: Configuration
    public let faults: FaultController
    private let logger: Logger
    private let port = Mutex<Int?>(nil)
    private let portWaiters = Mutex<[CheckedContinuation<Int, Never>]>([])
    private let connections = Atomic<Int>(0)
    /// Selection state by user, app and identity (`/app/<id>/identity/<key>`).
    let sharedSelections = SharedSelections()
    /// QIX requests answered, by method (`GET /stats`).
    public let requests = RequestCounter()

    public init(
        catalog: DemoAppCatalog, configuration: Configuration = Configuration(), faults: FaultController = FaultController(),
        logger: Logger = Logger(label: "qlik-mcp.demo-engine")
    ) {
        self.catalog = catalog
        self.configuration = configuration
        self.faults = faults
        self.logger = logger
    }

    /// Open WebSocket connections right now.
    public var activeConnections: Int { connections.load(ordering: .relaxed) }

    /// The bound port, once the server listens.
    public func listeningPort() async -> Int {
        if let bound = port.withLock({ $0 }) { return bound }
        return await withCheckedContinuation { continuation in
            let bound: Int? = port.withLock { bound in
                if bound == nil { portWaiters.withLock { $0.append(continuation) } }
                return bound
            }
            if let bound { continuation.resume(returning: bound) }
        }
    }

    public func run() async throws {
        let router = Router()
        router.get("/") { _, _ in "qlik-mcp demo engine: QIX over WebSocket at /app/<appId>\n" }
        let requests = self.requests
        router.get("/stats") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: JSONCoding.serialize(requests.json))))
        }
        let channelConfiguration = HTTP1WebSocketUpgradeChannel.Configuration(
            http1: .init(),
            ws: .init(maxFrameSize: configuration.maxFrameBytes))
        let webSocket = HTTPServerBuilder { responder in
            HTTPParseErrorGuard(
                HTTP1WebSocketUpgradeChannel(
                    responder: responder, configuration: channelConfiguration
                ) { [self] request, _, _ in
                    guard let appID = Self.appID(fromPath: request.path ?? "") else { return .dontUpgrade }
                    let identity = Self.identity(fromPath: request.path ?? "")
                    let user = request.headerFields[Self.qlikUser] ?? "anonymous"
                    guard !faults.refusesConnection() else { return .dontUpgrade }
                    guard activeConnections < configuration.maxConnections else {
                        logger.warning("refusing a connection: session limit reached", metadata: ["qlik_mcp.demo.max_connections": .stringConvertible(configuration.maxConnections)])
                        return .dontUpgrade
                    }
                    if let authorize = configuration.authorize, !authorize(request.headerFields) { return .dontUpgrade }
                    return .upgrade([:]) { inbound, outbound, _ in
                        // Open sockets end at graceful shutdown, so SIGTERM is not held up by idle clients.
                        try await cancelWhenGracefulShutdown {
                            try await self.serve(appID: appID.isEmpty ? nil : appID, user: user, identity: identity, inbound: inbound, outbound: outbound)
                        }
                    }
                })
        }
        let app = Application(
            router: router,
            server: try configuration.tls.map { try .tls(webSocket, tlsConfiguration: $0) } ?? webSocket,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "qlik-mcp-demo-engine"),
            onServerRunning: { [self] channel in
                let bound = channel.localAddress?.port ?? configuration.port
                port.withLock { $0 = bound }
                let waiters = portWaiters.withLock { waiters -> [CheckedContinuation<Int, Never>] in
                    defer { waiters.removeAll() }
                    return waiters
                }
                for waiter in waiters { waiter.resume(returning: bound) }
                logger.info(
                    "demo engine listening",
                    metadata: [
                        "url.full": "\(configuration.tls == nil ? "ws" : "wss")://\(configuration.host):\(bound)/app/<appId>",
                        "server.address": .string(configuration.host), "server.port": .stringConvertible(bound),
                        "qlik_mcp.demo.apps": .string(catalog.apps.map(\.id).joined(separator: ",")),
                    ])
            },
            logger: logger
        )
        // `run()`, not `runService()`: the latter installs its own SIGTERM handler, and the demo
        // engine must stay up while the MCP server that embeds it drains.
        try await app.run()
    }

    static let qlikUser = HTTPField.Name("X-Qlik-User")!

    /// `/app/<id>/identity/<key>` → key; nil without one.
    static func identity(fromPath path: String) -> String? {
        let clean = path.split(separator: "?").first.map(String.init) ?? path
        let parts = clean.split(separator: "/", omittingEmptySubsequences: true)
        guard parts.count >= 4, parts[0] == "app", parts[2] == "identity", parts[3].utf8.count <= 256 else { return nil }
        return String(parts[3]).removingPercentEncoding ?? String(parts[3])
    }

    /// `/app/<id>` (optionally followed by `/identity/<key>`) → id; `/app` or `/app/` → "" (Global only); anything else → nil.
    static func appID(fromPath path: String) -> String? {
        let clean = path.split(separator: "?").first.map(String.init) ?? path
        let parts = clean.split(separator: "/", omittingEmptySubsequences: true)
        guard parts.first == "app" else { return nil }
        guard parts.count >= 2 else { return "" }
        return String(parts[1]).removingPercentEncoding ?? String(parts[1])
    }

    private func serve(appID: String?, user: String, identity: String?, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        connections.add(1, ordering: .relaxed)
        defer { connections.subtract(1, ordering: .relaxed) }
        let shared = sharedSelections
        let session = QIXSession(
            catalog: catalog, boundAppID: appID, selection: { app in shared.box(user: user, appID: app, identity: identity) },
            reduction: configuration.sectionAccess.rules(forHeader: user), counter: requests)
        try await outbound.write(.text(JSONCoding.serialize(QIXSession.onConnected)))
        var received = 0
        for try await message in inbound.messages(maxSize: configuration.maxFrameBytes) {
            received += 1
            let faults = self.faults.current
            if let limit = faults.dropAfterMessages, received >= limit {
                logger.debug("fault injection: dropping the connection", metadata: ["qlik_mcp.demo.after_messages": .stringConvertible(received)])
                return
            }
            guard case .text(let text) = message else {
                try await outbound.write(
                    .text(
                        JSONCoding.serialize(
                            QIXSession.errorResponse(
                                id: .null, QIXFault(code: JSONRPCErrorCode.invalidRequest, message: "QIX messages are JSON text frames, not binary")))))
                continue
            }
            if faults.hang { continue }  // fault injection: the request is read and never answered
            let delay = faults.delay()
            if delay > .zero { try await Task.sleep(for: delay) }
            let response: JSONValue?
            if text.utf8.count > configuration.maxRequestBytes {
                response = QIXSession.errorResponse(
                    id: .null,
                    QIXFault(
                        code: JSONRPCErrorCode.invalidRequest, parameter: "message",
                        message: "the request is \(text.utf8.count) bytes; the limit is \(configuration.maxRequestBytes)"))
            } else {
                response = session.process(text, injectFault: self.faults.shouldFail)
            }
            if let response { try await outbound.write(.text(JSONCoding.serialize(response))) }
        }
    }
}
