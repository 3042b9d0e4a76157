import ClusterState
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

/// The HTTP sessions this process serves (Streamable HTTP and legacy SSE): a bounded map with
/// idle expiry; refuses new sessions while draining.
///
/// With `--state redis` (`cluster` set) the map is a cache of sessions whose records live in
/// Redis: a session unknown here is restored from its record, evicting a local copy does not end
/// the session, and ending one (`end`) deletes its record and tells the other replicas.
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
    /// Shared state (`--state redis`); nil keeps everything in this process.
    nonisolated let cluster: ClusterState?
    private var sessions: [String: Entry] = [:]
    private var restoring: [String: Task<Entry?, Never>] = [:]
    private(set) var draining = false
    private let logger: Logger
    private let metrics: MCPRequestMetrics

    init(maxSessions: Int, idleTimeout: Duration, cluster: ClusterState? = nil, metrics: MCPRequestMetrics = .shared, logger: Logger) {
        self.maxSessions = maxSessions
        self.idleTimeout = idleTimeout
        self.cluster = cluster
        self.metrics = metrics
        self.logger = logger
    }

    var count: Int { sessions.count }

    /// Nil when a new session may open here, otherwise why not. (With Redis the limit is also
    /// checked cluster-wide when the session's record is created.)
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

    /// Counts a refusal decided elsewhere (the cluster-wide limit).
    func rejected(kind: String) { metrics.sessionRejected(transport: kind, reason: "limit") }

    func add(_ entry: Entry) {
        sessions[entry.transport.sessionID] = entry
        metrics.sessionOpened(transport: entry.kind)
    }

    func entry(_ id: String) -> Entry? { sessions[id] }

    /// The local copy of a session, or the one `make` restores (once, however many requests ask
    /// at the same time).
    func restore(_ id: String, _ make: @escaping @Sendable () async -> Entry?) async -> Entry? {
        if let entry = sessions[id] { return entry }
        if let pending = restoring[id] { return await pending.value }
        let task = Task { await make() }
        restoring[id] = task
        let entry = await task.value
        restoring[id] = nil
        if let entry, sessions[id] == nil { add(entry) }
        return entry
    }

    /// Drops the local copy of a session: its streams close and its server stops. (Its record in
    /// Redis, if any, stays: another replica, or this one, can restore it.)
    func remove(_ id: String) async {
        guard let entry = sessions.removeValue(forKey: id) else { return }
        metrics.sessionClosed(transport: entry.kind)
        await entry.transport.terminate()
        await entry.server.stop()
    }

    /// Ends a session for good (DELETE, its legacy stream closed): the local copy, and with Redis
    /// its record and events, and the copies other replicas hold.
    func end(_ id: String) async {
        await remove(id)
        guard let cluster else { return }
        do {
            try await cluster.sessions.delete(id)
            try await cluster.bus.publish(.ended, session: id)
        } catch {
            logger.warning("could not delete a session from Redis; it expires by itself", metadata: Logger.Metadata.error(error).merging(["mcp.session.id": .string(id)]) { a, _ in a })
        }
    }

    /// Drops sessions idle for longer than `idleTimeout` (no request and no open stream). With
    /// Redis, sessions with an open stream are kept alive there (their TTL refreshed).
    func expireIdle(now: ContinuousClock.Instant = .now) async {
        for (id, entry) in sessions {
            if await entry.transport.hasOpenStreams {
                if let cluster { _ = try? await cluster.sessions.touch(id) }
                continue
            }
            guard now - (await entry.transport.lastActivity) > idleTimeout else { continue }
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

    /// Drops every local copy (shutdown). With Redis the sessions live on in other replicas.
    func removeAll() async {
        for id in Array(sessions.keys) { await remove(id) }
    }
}
