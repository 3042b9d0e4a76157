import Foundation
import Logging
import MCP
import MCPAuth
import QlikTools

/// A session transport the registry can expire and drain.
protocol HostedTransport: Transport {
    nonisolated var sessionID: String { get }
    var lastActivity: ContinuousClock.Instant { get async }
    var hasOpenStreams: Bool { get async }
    func terminate() async
    func closeStreams() async
}

extension StreamableHTTPSession: HostedTransport {}

/// The HTTP sessions of the server (Streamable HTTP and legacy SSE): a bounded map with idle
/// expiry; refuses new sessions while draining.
actor SessionRegistry {
    struct Entry {
        let transport: any HostedTransport
        let server: Server
        let kind: String
        /// `Principal.ownerKey` of the user who opened the session (nil without auth): requests
        /// of anyone else are answered as if the session did not exist.
        var owner: String? = nil
        var tools: ToolSession? = nil
    }

    enum Refusal: Error {
        case full(limit: Int)
        case draining
    }

    let maxSessions: Int
    let idleTimeout: Duration
    private var sessions: [String: Entry] = [:]
    private(set) var draining = false
    private let logger: Logger
    private let metrics: MCPRequestMetrics

    init(maxSessions: Int, idleTimeout: Duration, metrics: MCPRequestMetrics = .shared, logger: Logger) {
        self.maxSessions = maxSessions
        self.idleTimeout = idleTimeout
        self.metrics = metrics
        self.logger = logger
    }

    var count: Int { sessions.count }

    /// Nil when a new session may open, otherwise why not.
    func refusal(kind: String) -> Refusal? {
        if draining {
            metrics.sessionRejected(transport: kind, reason: "draining")
            return .draining
        }
        guard sessions.count < maxSessions else {
            metrics.sessionRejected(transport: kind, reason: "limit")
            return .full(limit: maxSessions)
        }
        return nil
    }

    func add(_ entry: Entry) {
        sessions[entry.transport.sessionID] = entry
        metrics.sessionOpened(transport: entry.kind)
    }

    func entry(_ id: String) -> Entry? { sessions[id] }

    /// Ends a session: its streams close and its server stops.
    func remove(_ id: String) async {
        guard let entry = sessions.removeValue(forKey: id) else { return }
        metrics.sessionClosed(transport: entry.kind)
        await entry.transport.terminate()
        await entry.server.stop()
    }

    /// Closes sessions idle for longer than `idleTimeout` (no request and no open stream).
    func expireIdle(now: ContinuousClock.Instant = .now) async {
        for (id, entry) in sessions {
            guard await !entry.transport.hasOpenStreams, now - (await entry.transport.lastActivity) > idleTimeout else { continue }
            metrics.sessionExpired(transport: entry.kind)
            logger.info("session expired", metadata: ["mcp.session.id": .string(id), "qlik_mcp.session.kind": .string(entry.kind)])
            await remove(id)
        }
    }

    /// Draining: no new sessions from now on.
    func startDraining() { draining = true }

    /// Closes every open stream (shutdown): clients see the stream end and may reconnect elsewhere.
    func closeStreams() async {
        for entry in sessions.values { await entry.transport.closeStreams() }
    }

    func removeAll() async {
        for id in Array(sessions.keys) { await remove(id) }
    }
}
