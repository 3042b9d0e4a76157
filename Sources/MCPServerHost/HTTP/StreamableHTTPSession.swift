import Foundation
import JSONCore
import Logging
import MCP
import Metrics

/// One Streamable HTTP session (MCP 2025-03-26 and later) as an MCP `Transport` for the SDK's
/// `Server`. Written here rather than using the SDK's `StatefulHTTPServerTransport` because that
/// one keeps every event of a session forever and always answers with SSE; this one:
/// - answers requests with plain JSON, or with an SSE stream when the call asked for progress
///   (`_meta.progressToken`), so progress notifications travel on the request's own stream;
/// - sends other server-to-client messages (`tools/list_changed`) on the GET stream;
/// - keeps a bounded `EventStore` for `Last-Event-ID` resumption;
/// - times requests out (the handler is cancelled, the client gets a JSON-RPC error).
public actor StreamableHTTPSession: EnvelopeTransport, HTTPContextProviding {
    public nonisolated let logger: Logger
    public nonisolated let sessionID: String
    private let requestTimeout: Duration
    private let retryMilliseconds: Int

    private let incoming: AsyncThrowingStream<JSONRPCEnvelope, any Error>
    private let incomingContinuation: AsyncThrowingStream<JSONRPCEnvelope, any Error>.Continuation
    private var jsonWaiters: [String: CheckedContinuation<Data?, Never>] = [:]
    /// Request id key → (event stream name, id of its open SSE response in `open`, if any).
    private var requestStreams: [String: (stream: String, open: Int?)] = [:]
    private var streamOfRequest: [String: String] = [:]
    private var progressRoutes: [String: String] = [:]
    private var httpContexts: [String: HTTPRequest] = [:]
    /// The timeout of each pending request, cancelled when it is answered (so no sleeping task
    /// outlives its request).
    private var timeouts: [String: Task<Void, Never>] = [:]
    /// Every SSE response being written, by a serial number; the GET stream is `standalone`.
    private var open: [Int: AsyncThrowingStream<Data, any Error>.Continuation] = [:]
    private var openCounter = 0
    private var standalone: Int?
    private var keepalive: Task<Void, Never>?
    private var store: EventStore
    private var streamCounter = 0
    private(set) var terminated = false
    /// When the session last saw a request (idle expiry).
    private(set) var lastActivity = ContinuousClock.now
    static let standaloneStream = "get"

    public init(sessionID: String, requestTimeout: Duration, maxStoredEvents: Int, maxStoredBytes: Int, retryMilliseconds: Int = 1_000, logger: Logger) {
        self.sessionID = sessionID
        self.requestTimeout = requestTimeout
        self.retryMilliseconds = retryMilliseconds
        self.logger = logger
        self.store = EventStore(maxEvents: maxStoredEvents, maxBytes: maxStoredBytes)
        (incoming, incomingContinuation) = AsyncThrowingStream<JSONRPCEnvelope, any Error>.makeStream(bufferingPolicy: .unbounded)
    }

    // MARK: Transport

    public func connect() async throws {}

    public func disconnect() async { terminate() }

    /// The messages as bytes (`Transport`); `InstrumentedTransport` reads `receiveEnvelopes()` instead.
    public func receive() -> AsyncThrowingStream<Data, any Error> {
        JSONRPCEnvelope.bytes(of: incoming)
    }

    func receiveEnvelopes() -> AsyncThrowingStream<JSONRPCEnvelope, any Error> { incoming }

    public func send(_ data: Data) async throws {
        guard !terminated else { throw MCPError.connectionClosed }
        // Responses (most messages, some large) are routed by id without parsing their result.
        if let (key, _) = InstrumentedTransport.responseID(data) {
            deliverResponse(data, key: key)
            return
        }
        guard let message = try? JSONCoding.parse(String(decoding: data, as: UTF8.self)) else { return }
        if message["method"]?.stringValue == "notifications/progress", let token = message["params"]?["progressToken"],
            let request = progressRoutes[InstrumentedTransport.key(token)], let route = requestStreams[request]
        {
            emit(data, stream: route.stream, to: route.open)
            return
        }
        emit(data, stream: Self.standaloneStream, to: standalone)
    }

    public func httpRequestContext(for id: ID) async -> HTTPRequest? {
        switch id {
        case .string(let text): return httpContexts[InstrumentedTransport.key(.string(text))]
        case .number(let number): return httpContexts[InstrumentedTransport.key(.number(Double(number)))]
        }
    }

    // MARK: HTTP

    /// True when a GET stream or a request stream is open (the session is in use, not idle).
    var hasOpenStreams: Bool { !open.isEmpty }

    /// A POSTed JSON-RPC message (already parsed and validated by the HTTP layer).
    func post(_ envelope: JSONRPCEnvelope, request: HTTPRequest) async -> HTTPResponse {
        let message = envelope.message
        guard !terminated else { return .error(statusCode: 404, .invalidRequest("Not Found: the session has ended; initialize a new one")) }
        lastActivity = .now
        guard let id = message["id"], id != .null, let method = message["method"]?.stringValue else {
            // A notification or a response to a server request: accepted, nothing to return.
            incomingContinuation.yield(envelope)
            return .accepted(headers: headers())
        }
        let key = InstrumentedTransport.key(id)
        guard jsonWaiters[key] == nil, requestStreams[key] == nil else {
            return .error(statusCode: 400, .invalidRequest("Bad Request: request id \(JSONCoding.serialize(id)) is already in use in this session"), sessionID: sessionID)
        }
        httpContexts[key] = request
        if method == "tools/call", let token = message["params"]?["_meta"]?["progressToken"], token != .null {
            return openRequestStream(envelope, key: key, id: id, progressToken: InstrumentedTransport.key(token))
        }
        let data: Data? = await withCheckedContinuation { continuation in
            jsonWaiters[key] = continuation
            incomingContinuation.yield(envelope)
            scheduleTimeout(key: key, id: id)
        }
        httpContexts[key] = nil
        guard let data else { return .error(statusCode: 404, .invalidRequest("Not Found: the session ended before the request was answered"), sessionID: sessionID) }
        return .data(data, headers: headers(["Content-Type": "application/json"]))
    }

    /// The GET stream for server-to-client messages, or the replay of a stream after `Last-Event-ID`.
    func get(lastEventID: String?) -> HTTPResponse {
        guard !terminated else { return .error(statusCode: 404, .invalidRequest("Not Found: the session has ended; initialize a new one")) }
        lastActivity = .now
        if let lastEventID {
            switch store.replay(after: lastEventID) {
            case .unavailable:
                return .error(
                    statusCode: 400, .invalidRequest("Bad Request: Last-Event-ID '\(lastEventID.prefix(100))' is unknown or its messages are no longer stored; open a new stream"), sessionID: sessionID
                )
            case .events(let stream, let events):
                let (sse, number) = openStream(primingFor: stream)
                for (id, message) in events { open[number]?.yield(Self.sse(id: id, data: message, retry: nil)) }
                if stream == Self.standaloneStream {
                    finish(standalone)
                    standalone = number
                } else if let request = requestStreams.first(where: { $0.value.stream == stream })?.key {
                    finish(requestStreams[request]?.open)
                    requestStreams[request]?.open = number
                } else {
                    finish(number)  // the request was answered; its response was in the replay
                }
                return .stream(sse, headers: sseHeaders())
            }
        }
        guard standalone == nil else {
            return .error(statusCode: 409, .invalidRequest("Conflict: this session already has a GET stream open"), sessionID: sessionID)
        }
        let (sse, number) = openStream(primingFor: Self.standaloneStream)
        standalone = number
        return .stream(sse, headers: sseHeaders())
    }

    /// Ends the session (DELETE, expiry, shutdown): open streams are finished, pending requests answered with 404.
    func terminate() {
        guard !terminated else { return }
        terminated = true
        for (_, waiter) in jsonWaiters { waiter.resume(returning: nil) }
        jsonWaiters.removeAll()
        for (_, timeout) in timeouts { timeout.cancel() }
        timeouts.removeAll()
        requestStreams.removeAll()
        closeStreams()
        httpContexts.removeAll()
        incomingContinuation.finish()
    }

    /// Closes the streams (graceful shutdown: clients reconnect elsewhere) without ending the session.
    func closeStreams() {
        for number in Array(open.keys) { finish(number) }
        keepalive?.cancel()
        keepalive = nil
    }

    // MARK: Internals

    /// Seconds between SSE keep-alive comments: they find dead connections, whose streams then close.
    static let keepaliveInterval: Duration = .seconds(15)

    /// A new SSE response starting with a priming event for `stream`.
    private func openStream(primingFor stream: String) -> (AsyncThrowingStream<Data, any Error>, Int) {
        let (sse, continuation) = AsyncThrowingStream<Data, any Error>.makeStream(bufferingPolicy: .bufferingNewest(4_096))
        openCounter += 1
        let number = openCounter
        continuation.yield(Self.sse(id: store.primingID(stream: stream), data: nil, retry: retryMilliseconds))
        continuation.onTermination = { [weak self] _ in Task { await self?.streamEnded(number) } }
        open[number] = continuation
        if keepalive == nil {
            keepalive = Task { [weak self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: Self.keepaliveInterval)
                    await self?.sendKeepalive()
                }
            }
        }
        return (sse, number)
    }

    private func sendKeepalive() {
        for continuation in open.values { continuation.yield(Data(": keepalive\n\n".utf8)) }
    }

    /// The writer of SSE response `number` stopped (client gone or stream finished).
    private func streamEnded(_ number: Int) {
        open[number] = nil
        if standalone == number { standalone = nil }
        for (key, route) in requestStreams where route.open == number { requestStreams[key]?.open = nil }
        if open.isEmpty {
            keepalive?.cancel()
            keepalive = nil
        }
    }

    private func finish(_ number: Int?) {
        guard let number, let continuation = open.removeValue(forKey: number) else { return }
        continuation.finish()
        streamEnded(number)
    }

    private func openRequestStream(_ envelope: JSONRPCEnvelope, key: String, id: JSONValue, progressToken: String) -> HTTPResponse {
        streamCounter += 1
        let stream = "r\(streamCounter)"
        let (sse, number) = openStream(primingFor: stream)
        requestStreams[key] = (stream, number)
        progressRoutes[progressToken] = key
        streamOfRequest[key] = progressToken
        incomingContinuation.yield(envelope)
        scheduleTimeout(key: key, id: id)
        return .stream(sse, headers: sseHeaders())
    }

    private func deliverResponse(_ data: Data, key: String) {
        if let waiter = jsonWaiters.removeValue(forKey: key) {
            waiter.resume(returning: data)
        } else if let route = requestStreams.removeValue(forKey: key) {
            emit(data, stream: route.stream, to: route.open)
            finish(route.open)
            if let token = streamOfRequest.removeValue(forKey: key) { progressRoutes[token] = nil }
        }
        httpContexts[key] = nil
        timeouts.removeValue(forKey: key)?.cancel()
    }

    /// Stores a message for resumption and writes it to the open SSE response, if any.
    private func emit(_ data: Data, stream: String, to number: Int?) {
        let (id, evicted) = store.append(stream: stream, data: data)
        if evicted > 0 { Counter(label: "qlik_mcp_sse_events_dropped_total").increment(by: evicted) }
        if let number { open[number]?.yield(Self.sse(id: id, data: data, retry: nil)) }
    }

    private func scheduleTimeout(key: String, id: JSONValue) {
        let timeout = requestTimeout
        timeouts[key] = Task { [weak self] in
            guard (try? await Task.sleep(for: timeout)) != nil else { return }  // cancelled: answered in time
            await self?.timedOut(key: key, id: id)
        }
    }

    private func timedOut(key: String, id: JSONValue) {
        guard jsonWaiters[key] != nil || requestStreams[key] != nil else { return }
        // Cancel the handler (the SDK stops it and sends nothing), then answer the client ourselves.
        let cancel: JSONValue = [
            "jsonrpc": "2.0", "method": "notifications/cancelled",
            "params": ["requestId": id, "reason": .string("timed out after \(requestTimeout)")],
        ]
        incomingContinuation.yield(.make(cancel))
        let error: JSONValue = [
            "jsonrpc": "2.0", "id": id,
            "error": ["code": -32001, "message": .string("Request timed out after \(requestTimeout); the server cancelled it. Narrow the request or raise --request-timeout.")],
        ]
        deliverResponse(Data(JSONCoding.serialize(error).utf8), key: key)
    }

    private func headers(_ extra: [String: String] = [:]) -> [String: String] {
        extra.merging(["Mcp-Session-Id": sessionID]) { a, _ in a }
    }

    private func sseHeaders() -> [String: String] {
        headers(["Content-Type": "text/event-stream", "Cache-Control": "no-cache, no-transform"])
    }

    /// One SSE event: `id:` (when given), `retry:` (when given), `data:` (one line per line of the message).
    static func sse(id: String?, data: Data?, retry: Int?) -> Data {
        var text = ""
        if let id { text += "id: \(id)\n" }
        if let retry { text += "retry: \(retry)\n" }
        if let data {
            text += "event: message\n"
            for line in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false) { text += "data: \(line)\n" }
        } else {
            text += "data: \n"
        }
        return Data((text + "\n").utf8)
    }
}
