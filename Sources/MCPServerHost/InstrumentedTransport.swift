import Foundation
import JSONCore
import Logging
import MCP
import ServiceContextModule
import Synchronization
import Telemetry
import Tracing

/// Wraps every session's transport (stdio, Streamable HTTP, legacy SSE): the one place where an
/// MCP request is seen from arrival to answer.
///
/// For each request it opens a server span named by the OpenTelemetry MCP conventions
/// (`tools/call get_app`, `tools/list`, `initialize`, …) as a child of the HTTP server span that
/// carried it (or of the `traceparent` in `params._meta`, which wins when present), records
/// `mcp_server_operation_duration_seconds`, counts it in flight (graceful shutdown waits), and
/// logs it at debug level. `tools/call` goes to `DirectToolCalls` — the one `tools/call` path of
/// every transport; every other method goes to the SDK's `Server`. Messages are parsed once: HTTP
/// sessions hand over `JSONRPCEnvelope`s; stdio lines are parsed here.
public actor InstrumentedTransport: Transport {
    public nonisolated let logger: Logger
    private let inner: any Transport
    private let sessionID: String
    private let metrics: MCPRequestMetrics
    private let inFlight: InFlightRequests
    /// OTel `network.transport` of this session: `pipe` (stdio) or `tcp` (HTTP).
    private let networkTransport: String
    private var protocolVersion: String?
    private let opened = ContinuousClock.now
    private var sessionRecorded = false

    private struct Pending {
        let method: String
        /// The tool's label for metrics: its canonical name, or `other` for a name no tool has.
        let tool: String?
        let start: ContinuousClock.Instant
        let span: any Span
        var toolError = false
    }

    private var pending: [String: Pending] = [:]
    /// Requests the client may leave unanswered are bounded like everything else.
    static let maxPending = 10_000

    /// After the client's end of input, how long answers to requests already received may still
    /// take before the session ends (stdio: `echo '{…}' | qlik-mcp serve` gets its answer).
    let answerAfterEndOfInput: Duration?

    /// Answers `tools/call` (see `DirectToolCalls`).
    let directToolCalls: DirectToolCalls
    /// Attributes set on every request span of the session (the caller's `enduser.pseudo.id`).
    let spanAttributes: [String: String]

    public init(
        _ inner: any Transport, sessionID: String, networkTransport: String = "tcp", inFlight: InFlightRequests,
        directToolCalls: DirectToolCalls, spanAttributes: [String: String] = [:],
        metrics: MCPRequestMetrics = .shared, answerAfterEndOfInput: Duration? = nil, logger: Logger
    ) {
        self.inner = inner
        self.directToolCalls = directToolCalls
        self.spanAttributes = spanAttributes
        self.answerAfterEndOfInput = answerAfterEndOfInput
        self.networkTransport = networkTransport
        self.sessionID = sessionID
        self.metrics = metrics
        self.inFlight = inFlight
        self.logger = logger
    }

    public func connect() async throws { try await inner.connect() }

    public func disconnect() async {
        for (_, request) in pending {
            request.span.setStatus(.init(code: .error, message: "session ended before the answer"))
            request.span.end()
            inFlight.finished()
        }
        pending.removeAll()
        if !sessionRecorded {
            sessionRecorded = true
            metrics.recordSession(transport: networkTransport, protocolVersion: protocolVersion ?? Version.latest, duration: .now - opened)
        }
        await inner.disconnect()
    }

    public func send(_ data: Data) async throws {
        var answered = false
        // The request counts as in flight until its answer is handed to the transport, so a drain
        // (SIGTERM, or stdin's end) never closes the output under an answer not yet written.
        defer { if answered { inFlight.finished() } }
        if let (id, ok) = Self.responseID(data), let request = pending.removeValue(forKey: id) {
            answered = true
            let errorType = ok ? (request.toolError ? "tool_error" : nil) : Self.errorCode(data).map(MCPRequestMetrics.errorType(code:)) ?? "other"
            finish(request, errorType: errorType)
        }
        try await inner.send(data)
    }

    public func receive() -> AsyncThrowingStream<Data, any Error> {
        AsyncThrowingStream { continuation in
            // A session's loop outlives the request that opened it: it must not inherit that
            // request's service context (its trace would be stamped on every later log line).
            let task = Task {
                await ServiceContext.withValue(nil) {
                    do {
                        if let source = inner as? any EnvelopeTransport {
                            for try await envelope in await source.receiveEnvelopes() {
                                if let forward = self.accept(envelope) { continuation.yield(forward) }
                            }
                        } else {
                            for try await data in await inner.receive() {
                                // stdio: this is the edge, so the one parse happens here.
                                guard let envelope = JSONRPCEnvelope.parse(data) else { continuation.yield(data); continue }
                                if let forward = self.accept(envelope) { continuation.yield(forward) }
                            }
                        }
                        if let grace = self.answerAfterEndOfInput { _ = await self.inFlight.drained(within: grace) }
                        continuation.finish()
                    } catch {
                        continuation.finish(throwing: error)
                    }
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// Records the message and says what the SDK gets: the raw bytes, or nothing for a `tools/call`
    /// answered on the direct path.
    private func accept(_ envelope: JSONRPCEnvelope) -> Data? {
        let message = envelope.message
        guard let method = envelope.method else { return envelope.raw }  // a response to a server request
        if method == "initialize", let requested = envelope.params?["protocolVersion"]?.stringValue {
            protocolVersion = Version.supported.contains(requested) ? requested : Version.latest
        }
        if envelope.restored { return envelope.raw }
        guard let id = envelope.id else {
            if method == "notifications/cancelled", let cancelled = envelope.params?["requestId"],
                let request = pending.removeValue(forKey: Self.key(cancelled))
            {
                request.span.addEvent("cancelled")
                finish(request, errorType: "cancelled")
                inFlight.finished()
            }
            return envelope.raw
        }
        let isToolCall = method == "tools/call" && (id.stringValue != nil || id.intValue != nil)
        let tool = isToolCall ? envelope.params?["name"]?.stringValue.map { directToolCalls.metricLabel(forTool: $0) } : nil
        let span = startSpan(envelope, method: method, id: id, tool: tool)
        if pending.count < Self.maxPending, pending.updateValue(Pending(method: method, tool: tool, start: .now, span: span), forKey: Self.key(id)) == nil {
            inFlight.started()
        }
        guard isToolCall else { return envelope.raw }
        var context = span.context
        context.mcpServerSpan = span
        let direct = directToolCalls
        Task { [context] in
            let (response, isError) = await ServiceContext.withValue(context) { await direct.respond(to: message, id: id) }
            await self.answer(response, id: id, isError: isError)
        }
        return nil
    }

    /// The server span of a request: `{mcp.method.name} {target}` (the tool's name for
    /// `tools/call`), with the MCP semantic-convention attributes.
    private func startSpan(_ envelope: JSONRPCEnvelope, method: String, id: JSONValue, tool: String?) -> any Span {
        var parent = envelope.context ?? .topLevel
        if let meta = envelope.params?["_meta"], let traceparent = meta["traceparent"]?.stringValue,
            let remote = W3CPropagation.parse(traceparent: traceparent, tracestate: meta["tracestate"]?.stringValue)
        {
            parent.spanContext = remote
        }
        let method = MCPRequestMetrics.methodLabel(method)
        let name = tool.flatMap { $0 == "other" ? nil : "\(method) \($0)" } ?? method
        let span = InstrumentationSystem.tracer.startSpan(name, context: parent, ofKind: .server)
        span.updateAttributes { attributes in
            attributes[SemanticAttributes.mcpMethodName] = method
            attributes[SemanticAttributes.mcpSessionID] = sessionID
            attributes[SemanticAttributes.jsonrpcRequestID] = id.stringValue ?? JSONCoding.serialize(id)
            attributes[SemanticAttributes.mcpProtocolVersion] = protocolVersion ?? Version.latest
            attributes[SemanticAttributes.networkTransport] = networkTransport
            if let tool {
                attributes[SemanticAttributes.genAIToolName] = tool
                attributes[SemanticAttributes.genAIOperationName] = "execute_tool"
            }
            if method == "prompts/get", let prompt = envelope.params?["name"]?.stringValue { attributes[SemanticAttributes.genAIPromptName] = String(prompt.prefix(128)) }
            if method == "resources/read", let uri = envelope.params?["uri"]?.stringValue { attributes[SemanticAttributes.mcpResourceURI] = String(uri.prefix(512)) }
            for (key, value) in spanAttributes { attributes[key] = value }
        }
        return span
    }

    private func answer(_ response: Data, id: JSONValue, isError: Bool) async {
        if isError { pending[Self.key(id)]?.toolError = true }
        do {
            try await send(response)
        } catch {
            logger.debug("could not send a tools/call answer", metadata: Logger.Metadata.error(error).merging(["mcp.session.id": .string(sessionID)]) { a, _ in a })
        }
    }

    /// Ends a request: its span (with `error.type` and an error status on failure), its metric, a debug line.
    private func finish(_ request: Pending, errorType: String?) {
        let duration = ContinuousClock.now - request.start
        let version = protocolVersion ?? Version.latest
        if let errorType {
            request.span.attributes[SemanticAttributes.errorType] = errorType
            request.span.setStatus(.init(code: .error))
        }
        request.span.end()
        metrics.record(method: request.method, tool: request.tool, errorType: errorType, transport: networkTransport, protocolVersion: version, duration: duration)
        guard logger.logLevel <= .debug else { return }
        ServiceContext.withValue(request.span.context) {
            logger.debug(
                "mcp request",
                metadata: [
                    SemanticAttributes.mcpMethodName: .string(request.method), "qlik_mcp.outcome": .string(errorType == nil ? "ok" : "error"),
                    SemanticAttributes.mcpSessionID: .string(sessionID), "qlik_mcp.duration_ms": .stringConvertible(duration.seconds * 1000),
                    SemanticAttributes.networkTransport: .string(networkTransport),
                ])
        }
    }

    static func key(_ id: JSONValue) -> String {
        if let text = id.stringValue { return "s:" + text }
        return "n:" + JSONCoding.serialize(id)
    }

    /// The id of a response and whether it succeeded; nil for requests and notifications.
    /// The SDK encodes with sorted keys, so a result starts `{"id":…,"jsonrpc":"2.0","result"`
    /// and is recognised without parsing the (possibly large) result.
    static func responseID(_ data: Data) -> (String, Bool)? {
        let prefix = Data("{\"id\":".utf8)
        if data.starts(with: prefix), let comma = data[prefix.count...].firstIndex(of: UInt8(ascii: ",")) {
            let token = String(decoding: data[prefix.count..<comma], as: UTF8.self)
            if let id = try? JSONCoding.parse(token) { return (key(id), true) }
        }
        guard data.count < 1 << 20, let message = try? JSONCoding.parse(String(decoding: data, as: UTF8.self)),
            message["method"] == nil, let id = message["id"], id != .null
        else { return nil }
        return (key(id), message["error"] == nil)
    }

    /// The `error.code` of a JSON-RPC error response (error responses are small: parsed whole).
    static func errorCode(_ data: Data) -> Int? {
        guard data.count < 1 << 16, let message = try? JSONCoding.parse(String(decoding: data, as: UTF8.self)) else { return nil }
        return message["error"]?["code"]?.intValue
    }
}
extension InstrumentedTransport: HTTPContextProviding {
    /// The HTTP request behind a JSON-RPC request, when the wrapped transport knows it.
    public func httpRequestContext(for id: ID) async -> HTTPRequest? {
        await (inner as? any HTTPContextProviding)?.httpRequestContext(for: id)
    }
}
