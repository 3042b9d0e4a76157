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
        let session = LegacySSESession(sessionID: id, logger: logger)
        let hosted = await setup.makeSession(sessionID: id, backend: backend, principal: principal)
        let server = hosted.server
        let registry = self.registry
        let events = await session.open(endpoint: "/messages?sessionId=\(id)") { await registry.remove(id) }
        if let failure = await start(hosted, over: session, sessionID: id) { return failure }
        await registry.add(.init(transport: session, server: server, kind: "sse", owner: principal?.ownerKey, tools: hosted.tools))
        return Self.response(.stream(events, headers: ["Content-Type": "text/event-stream", "Cache-Control": "no-cache, no-transform"]))
    }

    func postLegacy(_ request: Request, _ context: MCPRequestContext) async throws -> Response {
        let principal = context.principal
        let (sdkRequest, body) = try await read(request)
        guard let id = request.uri.queryParameters.get("sessionId"), let entry = await registry.entry(id), let session = entry.transport as? LegacySSESession,
            await owns(entry, principal, route: "/messages")
        else {
            return Self.response(.error(statusCode: 404, .invalidRequest("Not Found: unknown sessionId; open GET /sse first and POST to the endpoint it announces")))
        }
        if let failure = hostOrigin?.validate(sdkRequest, context: HTTPValidationContext(httpMethod: "POST", sessionID: id)) {
            return Self.response(failure)
        }
        guard let body, !body.isEmpty, let envelope = JSONRPCEnvelope.parse(body, context: ServiceContext.current), envelope.message.objectValue != nil else {
            return Self.response(.error(statusCode: 400, .parseError("POST one JSON-RPC message as a JSON object")))
        }
        if let refusal = await authorize(envelope.message, principal: principal, entry: entry, route: "/messages") { return refusal }
        guard await session.post(envelope) else { return Self.response(.error(statusCode: 404, .invalidRequest("Not Found: the session has ended"))) }
        return Response(status: .accepted, body: .init(byteBuffer: ByteBuffer(string: "Accepted")))
    }
}
