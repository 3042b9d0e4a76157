import ClusterState
import Foundation
import Hummingbird
import JSONCore
import MCP
import MCPAuth
import NIOCore
import QlikTools
import ServiceContextModule

/// Legacy HTTP+SSE (2024-11-05): `GET /sse` opens a session whose stream announces the `endpoint`
/// event; `POST /messages?sessionId=` carries the client's messages, answered on that stream.
///
/// With `--state redis` the session has a record too (cluster-wide limit, owner), and a POST that
/// reaches another replica is passed over the bus to the replica holding the stream. The session
/// ends with its stream — legacy SSE has no resumption — so a replica that dies takes its legacy
/// sessions with it.
extension MCPHTTPEndpoint {
    func openLegacy(_ request: Request, _ context: MCPRequestContext) async -> Response {
        let principal = context.principal
        let sdkRequest = Self.sdkRequest(request, body: nil)
        if let failure = hostOrigin?.validate(sdkRequest, context: HTTPValidationContext(httpMethod: "GET")) {
            return Self.response(failure)
        }
        if let refusal = await registry.refusal(kind: "sse") { return Self.refused(refusal) }
        let backend: QlikBackend
        do { backend = try setup.backend(for: principal) } catch { return Self.identityRefused(error) }
        let id = UUID().uuidString.lowercased()
        if let refusal = await share(SessionRecord(id: id, kind: "sse", owner: principal?.ownerKey, initializeParams: nil)) { return refusal }
        let session = LegacySSESession(sessionID: id, logger: logger)
        let hosted = await setup.makeSession(sessionID: id, backend: backend, principal: principal)
        let server = hosted.server
        let registry = self.registry
        let events = await session.open(endpoint: "/messages?sessionId=\(id)") { await registry.end(id) }
        if let failure = await start(hosted, over: session, sessionID: id) {
            await registry.end(id)
            return failure
        }
        await registry.add(.init(transport: session, server: server, kind: "sse", owner: principal?.ownerKey, tools: hosted.tools))
        if let bus = registry.cluster?.bus {
            // Messages POSTed to other replicas arrive here.
            await session.listen(on: bus)
        }
        return Self.response(.stream(events, headers: ["Content-Type": "text/event-stream", "Cache-Control": "no-cache, no-transform"]))
    }

    func postLegacy(_ request: Request, _ context: MCPRequestContext) async throws -> Response {
        let principal = context.principal
        let (sdkRequest, body) = try await read(request)
        let unknown = Self.response(.error(statusCode: 404, .invalidRequest("Not Found: unknown sessionId; open GET /sse first and POST to the endpoint it announces")))
        guard let id = request.uri.queryParameters.get("sessionId") else { return unknown }
        let found = await lookup(id, principal: principal, route: "/messages", kind: "sse")
        if case .unavailable(let refusal) = found { return refusal }
        if case .notFound = found { return unknown }
        if let failure = hostOrigin?.validate(sdkRequest, context: HTTPValidationContext(httpMethod: "POST", sessionID: id)) {
            return Self.response(failure)
        }
        guard let body, !body.isEmpty, let envelope = JSONRPCEnvelope.parse(body, context: ServiceContext.current), envelope.message.objectValue != nil else {
            return Self.response(.error(statusCode: 400, .parseError("POST one JSON-RPC message as a JSON object")))
        }
        switch found {
        case .found(let entry, _):
            guard let session = entry.transport as? LegacySSESession else { return unknown }
            if let refusal = await authorize(envelope.message, principal: principal, entry: entry, route: "/messages") { return refusal }
            guard await session.post(envelope) else { return Self.response(.error(statusCode: 404, .invalidRequest("Not Found: the session has ended"))) }
        case .remote:
            if let principal, let auth, let refusal = auth.authorize(envelope.message, principal: principal, route: "/messages", canonicalName: { setup.registry.tool(named: $0)?.name }) {
                return refusal
            }
            guard let bus = registry.cluster?.bus else { return unknown }
            let receivers: Int
            do { receivers = try await bus.publish(.inbound(data: String(decoding: body, as: UTF8.self)), session: id) } catch { return Self.stateUnavailable(error) }
            guard receivers > 0 else { return Self.response(.error(statusCode: 404, .invalidRequest("Not Found: the session's stream has closed; open GET /sse again"))) }
        case .notFound, .unavailable:
            return unknown
        }
        return Response(status: .accepted, body: .init(byteBuffer: ByteBuffer(string: "Accepted")))
    }
}
