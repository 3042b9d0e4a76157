import ClusterState
import Foundation
import JSONCore
import Logging
import MCP
import Metrics
import QlikEngine
import Telemetry

/// One Streamable HTTP session (MCP 2025-03-26 and later) as an MCP `Transport` for the SDK's
/// `Server`. Written here rather than using the SDK's `StatefulHTTPServerTransport` because that
/// one keeps every event of a session forever, in one process, and always answers with SSE; this one:
/// - answers requests with plain JSON, or with an SSE stream when the call asked for progress
///   (`_meta.progressToken`), so progress notifications travel on the request's own stream;
/// - sends other server-to-client messages (`tools/list_changed`) on the GET stream;
/// - keeps a bounded `SessionEventLog` for `Last-Event-ID` resumption — in Redis with
///   `--state redis`, so a stream resumes on any replica;
/// - with a `SessionBus` (`--state redis`), publishes every stored event, so the replica that
///   carries the stream now (after a resume) delivers what this one produced, and a stream resumed
///   elsewhere is taken over (closed here);
/// - times requests out (the handler is cancelled, the client gets a JSON-RPC error).
public actor StreamableHTTPSession: EnvelopeTransport, HTTPContextProviding {
    public nonisolated let logger: Logger
    public nonisolated let sessionID: String
    private let requestTimeout: Duration
    private let retryMilliseconds: Int
    private let events: any SessionEventLog
    private let bus: SessionBus?

    private let incoming: AsyncThrowingStream<JSONRPCEnvelope, any Error>
    private let incomingContinuation: AsyncThrowingStream<JSONRPCEnvelope, any Error>.Continuation
    private var jsonWaiters: [String: CheckedContinuation<Data?, Never>] = [:]
    /// Request id key → the event stream name of a request answered with SSE.
    private var requestStreams: [String: String] = [:]
    private var streamOfRequest: [String: String] = [:]
    private var progressRoutes: [String: String] = [:]
    private var httpContexts: [String: HTTPRequest] = [:]
    /// The timeout of each pending request, cancelled when it is answered (so no sleeping task
    /// outlives its request).
    /// Request deadlines on the shared `DeadlineWheel`, by request key.
    private var timeouts: [String: UInt64] = [:]
    /// Every SSE response being written, by a serial number.
    private var open: [Int: AsyncThrowingStream<Data, any Error>.Continuation] = [:]
    private var openCounter = 0
    /// Event stream name (`get`, `r1`, …) → the SSE response that carries it here.
    private var carriers: [String: Int] = [:]
    /// Streams being replayed: live events wait here until the replay is written.
    private var replaying: [String: [(String, Data)]] = [:]
    /// Highest sequence written per stream (drops duplicates of replay and live delivery).
    private var delivered: [String: Int] = [:]
    private var keepalive: Task<Void, Never>?
    private var streamCounter = 0
    private var subscription: SessionBus.Subscription?
    private var busInbox: AsyncStream<Inbox>.Continuation?
    private(set) var terminated = false
    /// When the session last saw a request (idle expiry).
    private(set) var lastActivity = ContinuousClock.now
    static let standaloneStream = "get"

    public init(
        sessionID: String, requestTimeout: Duration, events: any SessionEventLog, bus: SessionBus? = nil, retryMilliseconds: Int = 1_000,
        logger: Logger
    ) {
        self.sessionID = sessionID
        self.requestTimeout = requestTimeout
        self.retryMilliseconds = retryMilliseconds
        self.logger = logger
        self.events = events
        self.bus = bus
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
            await deliverResponse(data, key: key)
            return
        }
        guard let message = try? JSONCoding.parse(String(decoding: data, as: UTF8.self)) else { return }
        if message["method"]?.stringValue == "notifications/progress", let token = message["params"]?["progressToken"],
            let request = progressRoutes[InstrumentedTransport.key(token)], let stream = requestStreams[request]
        {
            await emit(data, stream: stream)
            return
        }
        await emit(data, stream: Self.standaloneStream)
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
            return await openRequestStream(envelope, key: key, id: id, progressToken: InstrumentedTransport.key(token))
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

    /// The GET stream for server-to-client messages, or the replay of a stream after
    /// `Last-Event-ID` (from this replica's log or, with Redis, any replica's), which then goes on
    /// carrying that stream's new messages.
    func get(lastEventID: String?) async -> HTTPResponse {
        guard !terminated else { return .error(statusCode: 404, .invalidRequest("Not Found: the session has ended; initialize a new one")) }
        lastActivity = .now
        guard let lastEventID else {
            guard carriers[Self.standaloneStream] == nil else {
                return .error(statusCode: 409, .invalidRequest("Conflict: this session already has a GET stream open"), sessionID: sessionID)
            }
            return await carry(Self.standaloneStream, replay: nil)
        }
        guard let (stream, position) = EventID.parse(lastEventID), replaying[stream] == nil else { return unknownEventID(lastEventID) }
        // Live events of the stream are held back (subscribed first, so none is missed) until the replay is written.
        replaying[stream] = []
        await subscribeIfNeeded()
        let replay: Replay
        do {
            replay = try await events.replay(after: lastEventID)
        } catch {
            replaying[stream] = nil
            return .error(statusCode: 503, .internalError("Service Unavailable: the event log cannot be read (\(error)); retry"), sessionID: sessionID)
        }
        guard case .events(_, let stored) = replay else {
            replaying[stream] = nil
            return unknownEventID(lastEventID)
        }
        delivered[stream] = position
        return await carry(stream, replay: stored)
    }

    private func unknownEventID(_ lastEventID: String) -> HTTPResponse {
        .error(
            statusCode: 400, .invalidRequest("Bad Request: Last-Event-ID '\(lastEventID.prefix(100))' is unknown or its messages are no longer stored; open a new stream"),
            sessionID: sessionID)
    }

    /// Opens an SSE response that carries `stream` from now on (after writing `replay`, if any),
    /// replacing any other response that carried it here or on another replica.
    private func carry(_ stream: String, replay: [(String, Data)]?) async -> HTTPResponse {
        // A fresh request stream exists only here; the GET stream and resumed streams may be carried elsewhere too.
        let shared = replay != nil || stream == Self.standaloneStream
        if shared { await subscribeIfNeeded() }
        let priming: String
        do { priming = try await events.primingID(stream: stream) } catch { priming = "\(stream)-0" }
        let (sse, number) = openStream(priming: priming)
        finish(carriers[stream])
        carriers[stream] = number
        var answered = false
        for (id, message) in (replay ?? []) + (replaying.removeValue(forKey: stream) ?? []) {
            write(id: id, message, stream: stream)
            answered = answered || Self.isResponse(message)
        }
        if answered && stream != Self.standaloneStream {
            finish(number)  // the request was answered: its response was in the replay
        } else if shared, let bus {
            _ = try? await bus.publish(.takeover(stream: stream, holder: "\(bus.replicaID)/\(number)"), session: sessionID)
        }
        return .stream(sse, headers: sseHeaders())
    }

    /// Ends the session (DELETE, expiry, shutdown): open streams are finished, pending requests answered with 404.
    func terminate() {
        guard !terminated else { return }
        terminated = true
        for (_, waiter) in jsonWaiters { waiter.resume(returning: nil) }
        jsonWaiters.removeAll()
        for (_, timeout) in timeouts { DeadlineWheel.shared.cancel(timeout) }
        timeouts.removeAll()
        requestStreams.removeAll()
        closeStreams()
        httpContexts.removeAll()
        incomingContinuation.finish()
        busInbox?.finish()
        if let subscription {
            self.subscription = nil
            Task { await subscription.cancel() }
        }
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

    /// A new SSE response starting with a priming event.
    private func openStream(priming: String) -> (AsyncThrowingStream<Data, any Error>, Int) {
        let (sse, continuation) = AsyncThrowingStream<Data, any Error>.makeStream(bufferingPolicy: .bufferingNewest(4_096))
        openCounter += 1
        let number = openCounter
        continuation.yield(Self.sse(id: priming, data: nil, retry: retryMilliseconds))
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
        for (stream, carrier) in carriers where carrier == number { carriers[stream] = nil }
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

    private func openRequestStream(_ envelope: JSONRPCEnvelope, key: String, id: JSONValue, progressToken: String) async -> HTTPResponse {
        streamCounter += 1
        // Stream names are unique across replicas too: a resumed stream must never meet another's events.
        let stream = bus.map { "r\(streamCounter).\($0.replicaID)" } ?? "r\(streamCounter)"
        requestStreams[key] = stream
        progressRoutes[progressToken] = key
        streamOfRequest[key] = progressToken
        let response = await carry(stream, replay: nil)
        incomingContinuation.yield(envelope)
        scheduleTimeout(key: key, id: id)
        return response
    }

    private func deliverResponse(_ data: Data, key: String) async {
        httpContexts[key] = nil
        if let timeout = timeouts.removeValue(forKey: key) { DeadlineWheel.shared.cancel(timeout) }
        if let waiter = jsonWaiters.removeValue(forKey: key) {
            waiter.resume(returning: data)
        } else if let stream = requestStreams.removeValue(forKey: key) {
            if let token = streamOfRequest.removeValue(forKey: key) { progressRoutes[token] = nil }
            await emit(data, stream: stream)
        }
    }

    /// Stores a message for resumption, writes it to the response carrying its stream here, and
    /// (with Redis) publishes it for a carrier on another replica. A log that cannot be written
    /// (Redis down) does not stop delivery here: the message goes out without an event id.
    private func emit(_ data: Data, stream: String) async {
        var id: String?
        do {
            let (stored, evicted) = try await events.append(stream: stream, data: data)
            if evicted > 0 { Counter(label: "qlik_mcp_sse_events_dropped_total").increment(by: evicted) }
            id = stored
        } catch {
            logger.warning("could not store an SSE event; it cannot be replayed", metadata: Logger.Metadata.error(error).merging([SemanticAttributes.mcpSessionID: .string(sessionID)]) { a, _ in a })
        }
        deliver(id: id, data, stream: stream)
        if let bus, let id {
            do { try await bus.publish(.event(stream: stream, id: id, data: String(decoding: data, as: UTF8.self)), session: sessionID) } catch {
                logger.debug("could not publish an SSE event", metadata: Logger.Metadata.error(error))
            }
        }
    }

    /// Writes an event to the response carrying `stream` here (held back while it replays); a
    /// response ends a request stream.
    private func deliver(id: String?, _ data: Data, stream: String) {
        if replaying[stream] != nil {
            if let id { replaying[stream]?.append((id, data)) }
            return
        }
        guard let number = carriers[stream] else { return }
        if let id {
            write(id: id, data, stream: stream)
        } else {
            open[number]?.yield(Self.sse(id: nil, data: data, retry: nil))
        }
        if stream != Self.standaloneStream, Self.isResponse(data) { finish(number) }
    }

    private func write(id: String, _ data: Data, stream: String) {
        guard let number = carriers[stream] else { return }
        if let (_, sequence) = EventID.parse(id) {
            guard sequence > delivered[stream] ?? -1 else { return }
            delivered[stream] = sequence
        }
        open[number]?.yield(Self.sse(id: id, data: data, retry: nil))
    }

    static func isResponse(_ data: Data) -> Bool { InstrumentedTransport.responseID(data) != nil }

    // MARK: The bus (Redis)

    /// Listens to the session's channel while it carries streams (once, for its lifetime here).
    private func subscribeIfNeeded() async {
        guard let bus, subscription == nil, !terminated else { return }
        let (inbox, continuation) = AsyncStream<Inbox>.makeStream(bufferingPolicy: .bufferingNewest(10_000))
        busInbox = continuation
        do {
            subscription = try await bus.listen(session: sessionID, onMessage: { continuation.yield(.message($0)) }, resync: { continuation.yield(.resync) })
        } catch {
            logger.warning("could not subscribe to the session's bus; streams resumed here get only their replay", metadata: Logger.Metadata.error(error))
            continuation.finish()
            busInbox = nil
            return
        }
        // One consumer, in order.
        Task { [weak self] in
            for await message in inbox { await self?.handle(message) }
        }
    }

    /// What the bus consumer processes, in order.
    enum Inbox {
        case message(SessionBus.Message)
        /// Redis reconnected (messages may be lost): catch up from the log.
        case resync
    }

    private func handle(_ item: Inbox) async {
        switch item {
        case .message(.event(let stream, let id, let data)): deliver(id: id, Data(data.utf8), stream: stream)
        case .message(.takeover(let stream, _)): finish(carriers[stream])
        case .message(.ended): terminate()
        case .message(.inbound): break
        case .resync: await resync()
        }
    }

    private func resync() async {
        for stream in carriers.keys {
            guard let last = delivered[stream], case .events(_, let missed)? = try? await events.replay(after: "\(stream)-\(last)") else { continue }
            for (id, data) in missed { deliver(id: id, data, stream: stream) }
        }
    }

    private func scheduleTimeout(key: String, id: JSONValue) {
        let timeout = requestTimeout
        timeouts[key] = DeadlineWheel.shared.schedule(after: timeout) { [weak self] in
            Task { await self?.timedOut(key: key, id: id) }
        }
    }

    private func timedOut(key: String, id: JSONValue) async {
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
        await deliverResponse(Data(JSONCoding.serialize(error).utf8), key: key)
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
