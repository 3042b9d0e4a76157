import Foundation
import Logging
import MCP
import JSONCore
import Synchronization
import Telemetry

/// Wraps any MCP transport to measure every request from arrival to response:
/// `mcp_requests_total{method,outcome}` and `mcp_request_duration_seconds{method}`, plus a debug
/// log line. Also counts in-flight requests (graceful shutdown waits for them).
public actor InstrumentedTransport: Transport {
    public nonisolated let logger: Logger
    private let inner: any Transport
    private let sessionID: String
    private let metrics: MCPRequestMetrics
    private let inFlight: InFlightRequests
    private var pending: [String: (method: String, start: ContinuousClock.Instant)] = [:]
    /// OTel `network.transport` of this session: `pipe` (stdio) or `tcp` (HTTP).
    private let networkTransport: String
    private var protocolVersion: String?
    /// Where the call attributes travel from the transport to the `tools/call` handler.
    static let callAttributesKey = "io.qlik-mcp/call"
    static let separator = "\u{1F}"

    /// The call attributes `noteIncoming` put in `_meta`, as span attributes.
    static func callAttributes(_ value: Value?) -> [String: String] {
        let parts = value?.stringValue?.components(separatedBy: separator) ?? []
        guard parts.count == 3 else { return [:] }
        return ["jsonrpc.request.id": parts[0], "mcp.protocol.version": parts[1], "network.transport": parts[2]]
    }
    /// Requests the client may leave unanswered are bounded like everything else.
    static let maxPending = 10_000

    /// After the client's end of input, how long answers to requests already received may still
    /// take before the session ends (stdio: `echo '{…}' | qlik-mcp serve` gets its answer).
    let answerAfterEndOfInput: Duration?

    /// Answers `tools/call` without handing it to the SDK's `Server` (see `DirectToolCalls`).
    let directToolCalls: DirectToolCalls?

    public init(_ inner: any Transport, sessionID: String, networkTransport: String = "tcp", inFlight: InFlightRequests,
                metrics: MCPRequestMetrics = .shared, answerAfterEndOfInput: Duration? = nil,
                directToolCalls: DirectToolCalls? = nil, logger: Logger) {
        self.inner = inner
        self.directToolCalls = directToolCalls
        self.answerAfterEndOfInput = answerAfterEndOfInput
        self.networkTransport = networkTransport
        self.sessionID = sessionID
        self.metrics = metrics
        self.inFlight = inFlight
        self.logger = logger
    }

    public func connect() async throws { try await inner.connect() }

    public func disconnect() async {
        for _ in pending { inFlight.finished() }
        pending.removeAll()
        await inner.disconnect()
    }

    public func send(_ data: Data) async throws {
        var answered = false
        // The request counts as in flight until its answer is handed to the transport, so a drain
        // (SIGTERM, or stdin's end) never closes the output under an answer not yet written.
        defer { if answered { inFlight.finished() } }
        if let (id, ok) = Self.responseID(data), let request = pending.removeValue(forKey: id) {
            answered = true
            let duration = ContinuousClock.now - request.start
            metrics.record(method: request.method, ok: ok, duration: duration)
            logger.debug("mcp request", metadata: [
                "method": .string(request.method), "outcome": .string(ok ? "ok" : "error"), "session_id": .string(sessionID),
                "duration_ms": .stringConvertible(duration.seconds * 1000),
            ])
        }
        try await inner.send(data)
    }

    public func receive() -> AsyncThrowingStream<Data, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    for try await data in await inner.receive() {
                        switch self.noteIncoming(data) {
                        case .forward(let message): continuation.yield(message)
                        case .direct(let message, let id, let attributes, let direct):
                            Task { await self.answer(message, id: id, attributes: attributes, with: direct) }
                        }
                    }
                    if let grace = self.answerAfterEndOfInput { _ = await self.inFlight.drained(within: grace) }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    private enum Incoming {
        /// Hand the message to the SDK's server.
        case forward(Data)
        /// Answer this `tools/call` on the direct path.
        case direct(JSONValue, id: JSONValue, attributes: [String: String], DirectToolCalls)
    }

    /// Answers a `tools/call` on the direct path and sends the answer like any other.
    private func answer(_ message: JSONValue, id: JSONValue, attributes: [String: String], with direct: DirectToolCalls) async {
        let sdkID: ID? = switch id {
        case .string(let text): .string(text)
        case .number(let number): .number(Int(number))
        default: nil
        }
        var http: HTTPRequest?
        if let sdkID { http = await httpRequestContext(for: sdkID) }
        let httpParent = http?.header(W3CTraceContext.traceparentHeader).flatMap {
            W3CTraceContext.parse(traceparent: $0, tracestate: http?.header(W3CTraceContext.tracestateHeader))
        }
        let response = await direct.respond(to: message, id: id, attributes: attributes, httpTraceParent: httpParent)
        do {
            try await send(response)
        } catch {
            logger.debug("could not send a tools/call answer", metadata: ["error": "\(error)", "session_id": .string(sessionID)])
        }
    }

    /// Records the request and says where it goes: a `tools/call` goes to the direct path when
    /// there is one; otherwise it gets the OTel call attributes (request id, protocol version,
    /// transport) in `params._meta` for its span and goes to the SDK.
    private func noteIncoming(_ data: Data) -> Incoming {
        guard let message = try? JSONCoding.parse(String(decoding: data, as: UTF8.self)) else { return .forward(data) }
        if message["method"]?.stringValue == "initialize", let requested = message["params"]?["protocolVersion"]?.stringValue {
            protocolVersion = Version.supported.contains(requested) ? requested : Version.latest
        }
        record(message)
        guard message["method"]?.stringValue == "tools/call", let id = message["id"], id != .null else { return .forward(data) }
        if let directToolCalls, id.stringValue != nil || id.intValue != nil {
            let attributes = ["jsonrpc.request.id": id.stringValue ?? JSONCoding.serialize(id), "mcp.protocol.version": protocolVersion ?? Version.latest,
                              "network.transport": networkTransport]
            return .direct(message, id: id, attributes: attributes, directToolCalls)
        }
        guard case .object(var object) = message, case .object(var params) = object["params"] ?? .null else { return .forward(data) }
        var meta = params["_meta"]?.objectValue ?? [:]
        // One string, not an object: the SDK runs a regular expression over every string value it
        // decodes (several times per request), so fewer strings are measurably cheaper.
        meta[Self.callAttributesKey] = .string([id.stringValue ?? JSONCoding.serialize(id), protocolVersion ?? Version.latest, networkTransport]
            .joined(separator: Self.separator))
        params["_meta"] = .object(meta)
        object["params"] = .object(params)
        return .forward(Data(JSONCoding.serialize(.object(object)).utf8))
    }

    private func record(_ message: JSONValue) {
        for item in message.arrayValue ?? [message] {
            guard let method = item["method"]?.stringValue, let id = item["id"], id != .null else {
                if let method = item["method"]?.stringValue, method == "notifications/cancelled",
                   let cancelled = item["params"]?["requestId"], let request = pending.removeValue(forKey: Self.key(cancelled)) {
                    metrics.record(method: request.method, ok: false, duration: ContinuousClock.now - request.start)
                    inFlight.finished()
                }
                continue
            }
            guard pending.count < Self.maxPending else { continue }
            if pending.updateValue((method, .now), forKey: Self.key(id)) == nil { inFlight.started() }
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
              message["method"] == nil, let id = message["id"], id != .null else { return nil }
        return (key(id), message["error"] == nil)
    }
}

/// Counts requests being handled across all sessions, so shutdown can wait for them.
public final class InFlightRequests: Sendable {
    private struct State {
        var count = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter: UInt64 = 0
    }

    private let state = Mutex(State())

    public init() {}

    public var count: Int { state.withLock { $0.count } }

    func started() { state.withLock { $0.count += 1 } }

    func finished() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.count = max(0, state.count - 1)
            guard state.count == 0 else { return [] }
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns when no request is in flight, or when the calling task is cancelled.
    public func drained() async {
        let id = state.withLock { state -> UInt64 in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state -> Bool in
                    if state.count == 0 || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }

    /// Waits until drained or `timeout` passes; true when drained.
    public func drained(within timeout: Duration) async -> Bool {
        await withDeadline(timeout) { await self.drained(); return !Task.isCancelled } ?? false
    }
}

extension InstrumentedTransport: HTTPContextProviding {
    /// The HTTP request behind a JSON-RPC request, when the wrapped transport knows it.
    public func httpRequestContext(for id: ID) async -> HTTPRequest? {
        await (inner as? any HTTPContextProviding)?.httpRequestContext(for: id)
    }
}
