import ClusterState
import Foundation
import Hummingbird
import JSONCore
import Logging
import MCP
import MCPAuth
import QlikTools
import Telemetry

/// Sessions found, restored and shared: the same code for `--state memory` (the registry is the
/// truth) and `--state redis` (the registry caches sessions whose records live in Redis, and any
/// replica restores a session it has not seen from its record).
extension MCPHTTPEndpoint {
    enum SessionLookup {
        /// Served here (with its record, with Redis).
        case found(SessionRegistry.Entry, SessionRecord?)
        case notFound
        /// A live session of the caller served by another replica (a legacy SSE session, whose
        /// stream is there).
        case remote(SessionRecord)
        /// Redis cannot be reached: the response to send (503, retryable).
        case unavailable(Response)
    }

    /// The caller's session `id` of `kind`: from the registry, else (with Redis) restored from its
    /// record — unless `restoring` is false. Another user's session is reported as not found.
    func lookup(_ id: String, principal: Principal?, route: String, kind: String, restoring: Bool = true) async -> SessionLookup {
        guard let cluster = registry.cluster else {
            guard let entry = await registry.entry(id), entry.kind == kind, owns(entry.owner, principal, route: route) else { return .notFound }
            return .found(entry, nil)
        }
        let record: SessionRecord?
        do { record = try await cluster.sessions.touch(id) } catch { return .unavailable(Self.stateUnavailable(error)) }
        guard let record else {
            await registry.remove(id)  // deleted or expired in the cluster: the local copy goes too
            return .notFound
        }
        guard record.kind == kind, owns(record.owner, principal, route: route) else { return .notFound }
        if let entry = await registry.entry(id) {
            if let tools = entry.tools, setup.dynamicToolsets { await tools.setEnabledToolsets(Set(record.toolsets)) }
            return .found(entry, record)
        }
        guard kind == "http", restoring else { return .remote(record) }
        let restored = await registry.restore(id) { await self.restore(record, principal: principal) }
        guard let restored else { return .unavailable(Self.response(.error(statusCode: 500, .internalError("the session could not be restored on this replica")))) }
        return .found(restored, record)
    }

    /// A POST to a session held here, with a static tool list (no toolsets to sync first): the
    /// record is touched *while* the request runs, hiding the Redis round trip behind the work;
    /// `confirm` then sends the answer only if the session still exists. Nil when that does not
    /// apply (memory, dynamic tools, a session not held here, another owner): use `lookup`.
    func concurrentTouch(_ id: String, principal: Principal?) async -> (entry: SessionRegistry.Entry, touch: Task<SessionRecord?, any Error>)? {
        guard let cluster = registry.cluster, !setup.dynamicToolsets, let entry = await registry.entry(id), entry.kind == "http",
            entry.owner == principal?.ownerKey
        else { return nil }
        let sessions = cluster.sessions
        // The task inherits this request's service context: the Redis span stays under the HTTP span.
        return (entry, Task { try await sessions.touch(id) })
    }

    /// `response`, if the concurrent touch found the session; else 404 (deleted or expired in the
    /// cluster — the work done is discarded) or 503 (Redis unreachable).
    func confirm(_ touch: Task<SessionRecord?, any Error>, sessionID id: String, response: Response) async -> Response {
        switch await touch.result {
        case .success(let record?) where record.kind == "http": return response
        case .success:
            await registry.remove(id)
            return Self.unknownSession()
        case .failure(let error): return Self.stateUnavailable(error)
        }
    }

    /// A Streamable HTTP session as it continues here: a fresh SDK server over a fresh transport
    /// (sharing the session's event log), which is given the client's `initialize` again so it
    /// negotiates what the client did, and the client's toolsets.
    private func restore(_ record: SessionRecord, principal: Principal?) async -> SessionRegistry.Entry? {
        guard let backend = try? setup.backend(for: principal) else { return nil }
        let session = makeStreamableSession(record.id)
        let hosted = await setup.makeSession(sessionID: record.id, backend: backend, principal: principal)
        guard await start(hosted, over: session, sessionID: record.id) == nil else { return nil }
        if let text = record.initializeParams, let params = try? JSONCoding.parse(text) {
            let request = MCPHTTPRequest(method: "POST", headers: [:], body: nil, path: "/mcp")
            let initialize: JSONValue = ["jsonrpc": "2.0", "id": "qlik-mcp-restore", "method": "initialize", "params": params]
            _ = await session.post(.make(initialize, restored: true), request: request)
            _ = await session.post(.make(["jsonrpc": "2.0", "method": "notifications/initialized"], restored: true), request: request)
        }
        await hosted.tools.setEnabledToolsets(Set(record.toolsets))
        logger.debug("session restored from Redis", metadata: [SemanticAttributes.mcpSessionID: .string(record.id)])
        return .init(transport: session, server: hosted.server, kind: record.kind, owner: record.owner, tools: hosted.tools)
    }

    /// The transport of a new or restored Streamable HTTP session, with its event log (in Redis
    /// with `--state redis`) and the bus.
    func makeStreamableSession(_ id: String) -> StreamableHTTPSession {
        let cluster = registry.cluster
        let events: any SessionEventLog =
            cluster.map { $0.eventLog(session: id, maxEvents: options.maxStoredEvents, maxBytes: options.maxStoredBytes) }
            ?? MemoryEventLog(maxEvents: options.maxStoredEvents, maxBytes: options.maxStoredBytes)
        return StreamableHTTPSession(sessionID: id, requestTimeout: options.requestTimeout, events: events, bus: cluster?.bus, logger: logger)
    }

    /// With Redis: stores a new session's record, within the cluster-wide session limit. The
    /// response to send instead when that fails.
    func share(_ record: SessionRecord) async -> Response? {
        guard let cluster = registry.cluster else { return nil }
        do {
            switch try await cluster.sessions.create(record, maxSessions: options.maxSessions) {
            case .created: return nil
            case .full(let limit):
                await registry.rejected(kind: record.kind)
                return Self.refused(.full(limit: limit))
            }
        } catch {
            return Self.stateUnavailable(error)
        }
    }

    /// With Redis, in dynamic tool mode: records toolsets the request enabled, so every replica
    /// lists the same tools.
    func saveToolsets(of entry: SessionRegistry.Entry, record: SessionRecord?) async {
        guard let cluster = registry.cluster, var record, let tools = entry.tools, setup.dynamicToolsets else { return }
        let enabled = await tools.enabledToolsets.sorted()
        guard enabled != record.toolsets else { return }
        record.toolsets = enabled
        do { try await cluster.sessions.update(record) } catch {
            logger.warning("could not save the session's toolsets to Redis", metadata: Logger.Metadata.error(error))
        }
    }

    /// 503 with `Retry-After` when the shared state cannot be reached.
    static func stateUnavailable(_ error: any Error) -> Response {
        let seconds = ClusterState.retryAfter(of: error).map { max(1, Int($0.components.seconds) + 1) } ?? 1
        return response(
            .error(
                statusCode: 503, .internalError("Service Unavailable: the session store (Redis) cannot be reached (\(error)); retry shortly"),
                extraHeaders: ["Retry-After": String(seconds)]))
    }
}
