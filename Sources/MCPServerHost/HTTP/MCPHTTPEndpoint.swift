import ClusterState
import Foundation
import HTTPTypes
import Hummingbird
import JSONCore
import Logging
import MCP
import MCPAuth
import NIOCore
import QlikTools
import ServiceContextModule

typealias MCPHTTPRequest = MCP.HTTPRequest
typealias MCPHTTPResponse = MCP.HTTPResponse

/// Limits and policies of the HTTP transports.
public struct HTTPTransportOptions: Sendable {
    public var maxSessions = 10_000
    public var sessionIdleTimeout: Duration = .seconds(1_800)
    public var maxBodyBytes = 1 << 20
    public var requestTimeout: Duration = .seconds(300)
    /// Per session: SSE events kept for `Last-Event-ID` resumption, and their total size.
    public var maxStoredEvents = 1_000
    public var maxStoredBytes = 4 << 20
    /// `Host` values accepted (DNS-rebinding protection); `host:*` matches any port. Empty: any host.
    public var allowedHosts: [String] = []
    /// Browser `Origin`s accepted; requests without an Origin (non-browser clients) always pass.
    public var allowedOrigins: [String] = []

    public init() {}

    /// Loopback defaults: only localhost names for Host and Origin.
    public static func loopback(port: Int) -> HTTPTransportOptions {
        var options = HTTPTransportOptions()
        options.allowedHosts = ["127.0.0.1:*", "localhost:*", "[::1]:*", "127.0.0.1", "localhost", "[::1]"]
        options.allowedOrigins = ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"]
        return options
    }
}

/// The MCP endpoints over HTTP: Streamable HTTP on `/mcp`, legacy HTTP+SSE on `/sse` and `/messages`.
struct MCPHTTPEndpoint: Sendable {
    let setup: MCPServerSetup
    let options: HTTPTransportOptions
    let registry: SessionRegistry
    let inFlight: InFlightRequests
    let logger: Logger
    /// Authentication and scopes (nil with `--auth none`).
    let auth: MCPAuthGuard?
    /// Host/Origin check (DNS rebinding); nil when neither hosts nor origins are restricted.
    let hostOrigin: HostOriginValidator?
    /// The validators of `/mcp`, built once.
    private let pipeline: StandardValidationPipeline

    init(setup: MCPServerSetup, options: HTTPTransportOptions, registry: SessionRegistry, inFlight: InFlightRequests, auth: MCPAuthGuard? = nil, logger: Logger) {
        self.setup = setup
        self.auth = auth
        self.options = options
        self.registry = registry
        self.inFlight = inFlight
        self.logger = logger
        let hostOrigin =
            options.allowedHosts.isEmpty && options.allowedOrigins.isEmpty
            ? nil : HostOriginValidator(allowedHosts: options.allowedHosts, allowedOrigins: options.allowedOrigins)
        self.hostOrigin = hostOrigin
        let validators: [any HTTPRequestValidator] = [
            AcceptHeaderValidator(mode: .sseRequired), ContentTypeValidator(),
            ProtocolVersionValidator(), SessionValidator(),
        ]
        self.pipeline = StandardValidationPipeline(validators: (hostOrigin.map { [$0] } ?? []) + validators)
    }

    /// The MCP routes; with `--auth`, behind `MCPAuthMiddleware` (the caller is `context.principal`).
    func register(on router: Router<MCPRequestContext>) {
        let routes = router.group()
        if let auth { routes.add(middleware: MCPAuthMiddleware(guardian: auth)) }
        routes.post("/mcp") { request, context in try await self.post(request, context) }
        routes.get("/mcp") { request, context in await self.get(request, context) }
        routes.delete("/mcp") { request, context in await self.delete(request, context) }
        routes.on("/mcp", method: .put) { _, _ in Self.methodNotAllowed() }
        routes.on("/mcp", method: .patch) { _, _ in Self.methodNotAllowed() }
        routes.get("/sse") { request, context in await self.openLegacy(request, context) }
        routes.post("/messages") { request, context in try await self.postLegacy(request, context) }
    }

    static func methodNotAllowed() -> Response {
        response(.error(statusCode: 405, .invalidRequest("Method Not Allowed: use POST, GET or DELETE on /mcp"), extraHeaders: ["Allow": "GET, POST, DELETE"]))
    }

    // MARK: Streamable HTTP

    private func post(_ request: Request, _ context: MCPRequestContext) async throws -> Response {
        let principal = context.principal
        let (sdkRequest, body) = try await read(request)
        guard let body, !body.isEmpty else { return Self.response(.error(statusCode: 400, .parseError("Empty request body: POST one JSON-RPC message"))) }
        // The one parse of this message: every layer after this reads the envelope.
        guard let envelope = JSONRPCEnvelope.parse(body, context: ServiceContext.current) else {
            return Self.response(.error(statusCode: 400, .parseError("the body is not valid JSON")))
        }
        let message = envelope.message
        if message.arrayValue != nil {
            return Self.response(.error(statusCode: 400, .invalidRequest("JSON-RPC batches are not supported; send one message per POST")))
        }
        guard message.objectValue != nil, message["jsonrpc"]?.stringValue == "2.0" else {
            return Self.response(.error(statusCode: 400, .invalidRequest("expected a JSON-RPC 2.0 object with \"jsonrpc\": \"2.0\"")))
        }
        if message["method"] == nil, message["result"] == nil, message["error"] == nil {
            return Self.response(.error(statusCode: 400, .invalidRequest("a message needs a \"method\" (request or notification), or \"result\"/\"error\" (response)")))
        }
        if let id = message["id"], id != .null, id.stringValue == nil, id.intValue == nil {
            return Self.response(.error(statusCode: 400, .invalidRequest("\"id\" must be a string or an integer")))
        }
        if let method = message["method"], method.stringValue == nil || method.stringValue?.isEmpty == true {
            return Self.response(.error(statusCode: 400, .invalidRequest("\"method\" must be a non-empty string")))
        }
        let isInitialize = message["method"]?.stringValue == "initialize"
        let headerSession = sdkRequest.header(HTTPHeaderName.sessionID)
        if isInitialize && headerSession == nil {
            if let failure = validate(sdkRequest, method: "POST", sessionID: nil, initialize: true) { return Self.response(failure) }
            return await initialize(envelope, request: sdkRequest, principal: principal)
        }
        guard let headerSession else {
            return Self.response(.error(statusCode: 400, .invalidRequest("Bad Request: missing Mcp-Session-Id header; send initialize first")))
        }
        let entry: SessionRegistry.Entry
        var record: SessionRecord?
        let pendingTouch = await concurrentTouch(headerSession, principal: principal)
        if let pendingTouch {
            entry = pendingTouch.entry
        } else {
            switch await lookup(headerSession, principal: principal, route: "/mcp", kind: "http") {
            case .found(let found, let stored): (entry, record) = (found, stored)
            case .notFound, .remote: return Self.unknownSession()
            case .unavailable(let refusal): return refusal
            }
        }
        guard let session = entry.transport as? StreamableHTTPSession else { return Self.unknownSession() }
        if let failure = validate(sdkRequest, method: "POST", sessionID: headerSession, initialize: isInitialize) { return Self.response(failure) }
        if isInitialize {
            return Self.response(.error(statusCode: 400, .invalidRequest("Bad Request: this session is already initialized"), sessionID: headerSession))
        }
        if let refusal = await authorize(message, principal: principal, entry: entry, route: "/mcp") { return refusal }
        let response = Self.response(await session.post(envelope, request: sdkRequest))
        if let pendingTouch { return await confirm(pendingTouch.touch, sessionID: headerSession, response: response) }
        await saveToolsets(of: entry, record: record)
        return response
    }

    static func unknownSession() -> Response {
        response(.error(statusCode: 404, .invalidRequest("Not Found: unknown or expired session; initialize a new one")))
    }

    private func initialize(_ envelope: JSONRPCEnvelope, request: MCPHTTPRequest, principal: Principal?) async -> Response {
        if let refusal = await registry.refusal(kind: "http") { return Self.refused(refusal) }
        let id = UUID().uuidString.lowercased()
        let backend: QlikBackend
        do { backend = try setup.backend(for: principal) } catch { return Self.identityRefused(error) }
        let session = makeStreamableSession(id)
        let hosted = await setup.makeSession(sessionID: id, backend: backend, principal: principal)
        let server = hosted.server
        if let failure = await start(hosted, over: session, sessionID: id) { return failure }
        await registry.add(.init(transport: session, server: server, kind: "http", owner: principal?.ownerKey, tools: hosted.tools))
        let response = await session.post(envelope, request: request)
        if case .data(let data, _) = response, (try? JSONCoding.parse(String(decoding: data, as: UTF8.self)))?["error"] != nil {
            await registry.remove(id)  // a failed initialize leaves no session behind
            return Self.response(response)
        }
        let record = SessionRecord(id: id, kind: "http", owner: principal?.ownerKey, initializeParams: envelope.params.map { JSONCoding.serialize($0) })
        if let refusal = await share(record) {
            await registry.remove(id)
            return refusal
        }
        return Self.response(response)
    }

    private func get(_ request: Request, _ context: MCPRequestContext) async -> Response {
        let sdkRequest = Self.sdkRequest(request, body: nil)
        guard let id = sdkRequest.header(HTTPHeaderName.sessionID) else {
            return Self.response(.error(statusCode: 400, .invalidRequest("Bad Request: missing Mcp-Session-Id header")))
        }
        let entry: SessionRegistry.Entry
        switch await lookup(id, principal: context.principal, route: "/mcp", kind: "http") {
        case .found(let found, _): entry = found
        case .notFound, .remote: return Self.unknownSession()
        case .unavailable(let refusal): return refusal
        }
        guard let session = entry.transport as? StreamableHTTPSession else { return Self.unknownSession() }
        if let failure = validate(sdkRequest, method: "GET", sessionID: id, initialize: false) { return Self.response(failure) }
        return Self.response(await session.get(lastEventID: sdkRequest.header(HTTPHeaderName.lastEventID)))
    }

    private func delete(_ request: Request, _ context: MCPRequestContext) async -> Response {
        let sdkRequest = Self.sdkRequest(request, body: nil)
        guard let id = sdkRequest.header(HTTPHeaderName.sessionID) else {
            return Self.response(.error(statusCode: 400, .invalidRequest("Bad Request: missing Mcp-Session-Id header")))
        }
        switch await lookup(id, principal: context.principal, route: "/mcp", kind: "http", restoring: false) {
        case .found, .remote: break
        case .notFound: return Self.response(.error(statusCode: 404, .invalidRequest("Not Found: unknown or expired session")))
        case .unavailable(let refusal): return refusal
        }
        if let failure = validate(sdkRequest, method: "DELETE", sessionID: id, initialize: false) { return Self.response(failure) }
        await registry.end(id)
        return Response(status: .ok)
    }

    /// Starts a session's SDK server over its transport, wrapped in `InstrumentedTransport`; the
    /// 500 to send when it cannot start.
    func start(_ hosted: HostedSession, over session: any Transport, sessionID id: String) async -> Response? {
        do {
            // The session's server loop must not inherit this request's trace (see InstrumentedTransport).
            try await ServiceContext.withValue(nil) {
                try await hosted.server.start(
                    transport: InstrumentedTransport(
                        session, sessionID: id, inFlight: inFlight, directToolCalls: hosted.directToolCalls,
                        spanAttributes: hosted.spanAttributes, logger: logger))
            }
            return nil
        } catch {
            return Self.response(.error(statusCode: 500, .internalError("could not start the session: \(error)")))
        }
    }

    /// The SDK's validators: Host/Origin (DNS rebinding), Accept, Content-Type, protocol version, session.
    private func validate(_ request: MCPHTTPRequest, method: String, sessionID: String?, initialize: Bool) -> MCPHTTPResponse? {
        pipeline.validate(
            request,
            context: HTTPValidationContext(
                httpMethod: method, sessionID: sessionID, isInitializationRequest: initialize,
                supportedProtocolVersions: Version.supported))
    }

    // MARK: Ownership and scopes

    /// Whether the caller may see a session opened by `owner`: it must be the same principal. A
    /// mismatch is audited and then answered exactly like an unknown session.
    func owns(_ owner: String?, _ principal: Principal?, route: String) -> Bool {
        guard owner != principal?.ownerKey else { return true }
        if let principal {
            AuthTelemetry.shared.attempt(method: principal.method.rawValue, outcome: "session_owner_mismatch")
            AuthTelemetry.shared.denied(
                .invalidToken(reason: "session_owner_mismatch", description: "session of another user"), method: principal.method.rawValue,
                route: route, principal: principal)
        }
        return false
    }

    /// 403 step-up for a tool outside the caller's scopes; otherwise the session's tool list
    /// follows the scopes of this request's token, and a change is announced
    /// (`notifications/tools/list_changed`, on the session's GET stream).
    func authorize(_ message: JSONValue, principal: Principal?, entry: SessionRegistry.Entry, route: String) async -> Response? {
        guard let auth, let principal else { return nil }
        if let refusal = auth.authorize(message, principal: principal, route: route, canonicalName: { setup.registry.tool(named: $0)?.name }) { return refusal }
        if await entry.tools?.restrict(to: principal.scopes) == true {
            try? await entry.server.notify(ToolListChangedNotification.message())
        }
        return nil
    }

    static func identityRefused(_ error: any Error) -> Response {
        response(.error(statusCode: 403, .invalidRequest("Forbidden: your identity cannot be mapped to a Qlik user (\(error)); ask an administrator")))
    }

    // MARK: Conversions

    static func refused(_ refusal: SessionRegistry.Refusal) -> Response {
        switch refusal {
        case .draining:
            return response(.error(statusCode: 503, .internalError("Service Unavailable: the server is shutting down; connect again shortly"), extraHeaders: ["Retry-After": "5"]))
        case .full(let limit):
            return response(
                .error(
                    statusCode: 503, .internalError("Service Unavailable: the server has its maximum of \(limit) sessions; retry later or end unused sessions with DELETE /mcp"),
                    extraHeaders: ["Retry-After": "30"]))
        }
    }

    func read(_ request: Request) async throws -> (MCPHTTPRequest, Data?) {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: options.maxBodyBytes)
        } catch is NIOTooManyBytesError {
            throw HTTPError(.contentTooLarge, message: "the request body is larger than \(options.maxBodyBytes) bytes (--max-body-bytes)")
        }
        let body = Data(buffer: buffer)
        return (Self.sdkRequest(request, body: body), body)
    }

    static func sdkRequest(_ request: Request, body: Data?) -> MCPHTTPRequest {
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        if let authority = request.head.authority, headers["host"] == nil { headers["host"] = authority }
        return MCPHTTPRequest(method: request.method.rawValue, headers: headers, body: body, path: request.uri.path)
    }

    static func response(_ response: MCPHTTPResponse) -> Response {
        var fields = HTTPFields()
        for (name, value) in response.headers {
            if let field = HTTPField.Name(name) { fields[field] = value }
        }
        let status = HTTPTypes.HTTPResponse.Status(code: response.statusCode)
        switch response {
        case .stream(let stream, _):
            return Response(
                status: status, headers: fields,
                body: ResponseBody { writer in
                    for try await chunk in stream { try await writer.write(ByteBuffer(bytes: chunk)) }
                    try await writer.finish(nil)
                })
        default:
            if let data = response.bodyData {
                if fields[.contentType] == nil { fields[.contentType] = "application/json" }
                return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
            }
            return Response(status: status, headers: fields)
        }
    }
}

/// Host and Origin checks with `host:*` port wildcards; requests without Origin pass the Origin check.
struct HostOriginValidator: HTTPRequestValidator {
    let allowedHosts: [String]
    let allowedOrigins: [String]

    func validate(_ request: MCPHTTPRequest, context: HTTPValidationContext) -> MCPHTTPResponse? {
        if !allowedHosts.isEmpty, let host = request.header("Host"), !allowedHosts.contains(where: { Self.matches(host, $0) }) {
            return .error(statusCode: 421, .invalidRequest("Misdirected Request: Host '\(host.prefix(100))' is not allowed (--allowed-hosts)"), sessionID: context.sessionID)
        }
        if let origin = request.header("Origin"), !allowedOrigins.contains(where: { Self.matches(origin, $0) }) {
            return .error(statusCode: 403, .invalidRequest("Forbidden: Origin '\(origin.prefix(100))' is not allowed (--allowed-origins)"), sessionID: context.sessionID)
        }
        return nil
    }

    static func matches(_ value: String, _ pattern: String) -> Bool {
        guard pattern.hasSuffix(":*") else { return value.caseInsensitiveCompare(pattern) == .orderedSame }
        let prefix = pattern.dropLast(2)
        guard value.lowercased().hasPrefix(prefix.lowercased() + ":") else { return false }
        let port = value.dropFirst(prefix.count + 1)
        return !port.isEmpty && port.allSatisfy(\.isNumber)
    }
}
