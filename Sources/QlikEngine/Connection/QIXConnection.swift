import Foundation
import HTTPTypes
import HummingbirdWSClient
import JSONCore
import Logging
import Synchronization

/// One QIX session over one WebSocket: JSON-RPC request ids, response correlation, per-request
/// timeouts, cancellation, and tracking of the `change`/`close` handle lists the engine sends.
///
/// Requests may be issued concurrently from many tasks; each waits only for its own response.
/// Every request is instrumented (span `qix <Method>`, `qix_requests_total`,
/// `qix_request_duration_seconds`) through `QIXInstrumentation`.
public final class QIXConnection: Sendable {
    public struct Options: Sendable {
        public var connectTimeout: Duration = .seconds(10)
        public var requestTimeout: Duration = .seconds(30)
        /// Largest message accepted from the engine.
        public var maxMessageBytes = 64 << 20

        public init(connectTimeout: Duration = .seconds(10), requestTimeout: Duration = .seconds(30), maxMessageBytes: Int = 64 << 20) {
            self.connectTimeout = connectTimeout
            self.requestTimeout = requestTimeout
            self.maxMessageBytes = maxMessageBytes
        }
    }

    /// The response to one request.
    public struct Response: Sendable {
        public let result: JSONValue
        public let change: [Int]
        public let close: [Int]
    }

    /// A request between sending and its response. The response may arrive before the caller
    /// suspends (the write completes after the engine already answered), hence `arrived`.
    private struct Pending {
        enum Slot {
            case sending
            case arrived(Result<Response, any Error>)
            case waiting(CheckedContinuation<Response, any Error>)
        }
        let method: String
        var slot: Slot = .sending
        /// The request's deadline on the shared `DeadlineWheel`.
        var timeoutToken: UInt64?
    }

    private struct State {
        var nextID = 1
        var pending: [Int: Pending] = [:]
        var writer: WebSocketOutboundWriter?
        var closedReason: String?
        var readyWaiter: CheckedContinuation<Void, any Error>?
        var ready = false
        var sessionState: String?
        var changed: Set<Int> = []
        var closedHandles: Set<Int> = []
        var lastUsed = ContinuousClock.now
    }

    public let url: String
    public let options: Options
    public let engineID: String
    let instrumentation: QIXInstrumentation
    private let state = Mutex(State())
    private let runner = Mutex<Task<Void, Never>?>(nil)
    /// Handles of objects a client keeps open on this connection, by the client's name for them.
    private let memos = Mutex<[String: Int]>([:])
    public let createdAt = ContinuousClock.now

    private init(url: String, engineID: String, options: Options, instrumentation: QIXInstrumentation) {
        self.url = url
        self.engineID = engineID
        self.options = options
        self.instrumentation = instrumentation
    }

    /// Opens a session to `appID` on `endpoint` (nil: a Global-only session).
    public static func connect(
        to endpoint: QIXEndpoint,
        appID: String?,
        identity: String? = nil,
        options: Options = Options(),
        instrumentation: QIXInstrumentation = .shared,
        logger: Logger = Logger(label: "qlik-mcp.qix")
    ) async throws -> QIXConnection {
        let url = endpoint.url(forApp: appID, identity: identity)
        let connection = QIXConnection(url: url, engineID: endpoint.engineID, options: options, instrumentation: instrumentation)
        if endpoint.insecureSkipVerify {
            logger.warning("TLS certificate verification is OFF for this engine; use only against a test installation", metadata: ["engine": .string(endpoint.engineID)])
        }
        var headers = HTTPFields()
        for (name, value) in endpoint.headers {
            guard let field = HTTPField.Name(name) else { throw QIXClientError.invalidConfiguration("invalid header name \(name)") }
            headers[field] = value
        }
        let tls = try endpoint.tlsConfiguration()
        let configuration = WebSocketClientConfiguration(maxFrameSize: options.maxMessageBytes, additionalHeaders: headers)
        let task = Task {
            do {
                try await WebSocketClient.connect(url: url, configuration: configuration, tlsConfiguration: tls, logger: logger) { inbound, outbound, _ in
                    connection.attach(outbound)
                    try await connection.readLoop(inbound)
                }
                connection.closeAll(reason: "the engine closed the WebSocket")
            } catch {
                connection.closeAll(reason: Self.describe(error))
            }
        }
        connection.runner.withLock { $0 = task }
        do {
            try await connection.waitUntilReady()
            instrumentation.connectionOpened()
            return connection
        } catch {
            task.cancel()
            instrumentation.connectionError(reason: "connect")
            if let clientError = error as? QIXClientError, case .connectionClosed(let reason) = clientError {
                throw QIXClientError.connectionFailed(url: url, reason: reason)
            }
            throw error
        }
    }

    static func describe(_ error: any Error) -> String {
        let text = String(describing: error)
        if text.contains("webSocketUpgradeFailed") || text.contains("WebSocket upgrade failed") {
            return "the engine refused the WebSocket upgrade (check the credentials, the app id and the virtual proxy)"
        }
        if text.contains("connectionRefused") || text.contains("Connection refused") {
            return "connection refused (is the engine running and the port right?)"
        }
        if text.lowercased().contains("handshake") || text.contains("NIOSSL") || text.contains("certificate") {
            return "TLS handshake failed: \(text) (check the root CA, client certificate and key)"
        }
        return text
    }

    private func waitUntilReady() async throws {
        let timeout = options.connectTimeout
        let timer = Task { [weak self] in
            try? await Task.sleep(for: timeout)
            guard !Task.isCancelled else { return }
            self?.failReady(QIXClientError.connectionFailed(url: self?.url ?? "", reason: "no WebSocket session within \(timeout)"))
        }
        defer { timer.cancel() }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let outcome: Result<Void, any Error>? = state.withLock { state in
                if state.ready { return .success(()) }
                if let reason = state.closedReason { return .failure(QIXClientError.connectionClosed(reason: reason)) }
                state.readyWaiter = continuation
                return nil
            }
            if let outcome { continuation.resume(with: outcome) }
        }
    }

    private func failReady(_ error: any Error) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, any Error>? in
            defer { state.readyWaiter = nil }
            return state.readyWaiter
        }
        waiter?.resume(throwing: error)
        runner.withLock { $0?.cancel() }
    }

    private func attach(_ writer: WebSocketOutboundWriter) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, any Error>? in
            state.writer = writer
            state.ready = true
            defer { state.readyWaiter = nil }
            return state.readyWaiter
        }
        waiter?.resume()
    }

    private func readLoop(_ inbound: WebSocketInboundStream) async throws {
        for try await message in inbound.messages(maxSize: options.maxMessageBytes) {
            guard case .text(let text) = message else { continue }
            handle(text)
        }
    }

    /// Routes one incoming message to its waiting request.
    private func handle(_ text: String) {
        guard let message = try? JSONCoding.parse(text), case .object(let object) = message else {
            instrumentation.connectionError(reason: "protocol")
            return
        }
        guard let id = object["id"]?.intValue else {
            if object["method"]?.stringValue == "OnConnected" {
                state.withLock { $0.sessionState = object["params"]?["qSessionState"]?.stringValue }
            }
            return  // other notifications (OnMaxParallelSessionsExceeded, …) carry no id
        }
        let change = object["change"]?.arrayValue?.compactMap(\.intValue) ?? []
        let close = object["close"]?.arrayValue?.compactMap(\.intValue) ?? []
        let method = state.withLock { state -> String? in
            state.changed.formUnion(change)
            state.closedHandles.formUnion(close)
            return state.pending[id]?.method
        }
        guard let method else { return }  // timed out or cancelled already
        if let error = object["error"] {
            complete(
                id: id,
                with: .failure(
                    QIXError(
                        code: error["code"]?.intValue ?? -1, message: error["message"]?.stringValue ?? "",
                        parameter: error["parameter"]?.stringValue ?? "", method: method)))
        } else {
            complete(id: id, with: .success(Response(result: object["result"] ?? .null, change: change, close: close)))
        }
    }

    /// Fails every waiting request; the connection cannot be used afterwards.
    private func closeAll(reason: String) {
        let (ids, waiter, wasOpen) = state.withLock { state -> ([Int], CheckedContinuation<Void, any Error>?, Bool) in
            let wasOpen = state.ready && state.closedReason == nil
            if state.closedReason == nil { state.closedReason = reason }
            state.writer = nil
            defer { state.readyWaiter = nil }
            return (Array(state.pending.keys), state.readyWaiter, wasOpen)
        }
        if wasOpen { instrumentation.connectionClosed() }
        waiter?.resume(throwing: QIXClientError.connectionClosed(reason: reason))
        for id in ids { complete(id: id, with: .failure(QIXClientError.connectionClosed(reason: reason))) }
    }

    /// True until the socket closes.
    public var isOpen: Bool { state.withLock { $0.ready && $0.closedReason == nil } }

    /// The `qSessionState` of the engine's `OnConnected` notification, once received.
    public var sessionState: String? { state.withLock { $0.sessionState } }

    /// Time since the last request.
    public var idleTime: Duration { .now - state.withLock { $0.lastUsed } }

    /// Handles reported in `change` since the last call (their layouts are stale).
    public func takeChangedHandles() -> Set<Int> {
        state.withLock { state in
            defer { state.changed.removeAll() }
            return state.changed
        }
    }

    public func isClosed(handle: Int) -> Bool { state.withLock { $0.closedHandles.contains(handle) } }

    /// The handle remembered under `key` on this connection (an object kept open across calls).
    public func memo(_ key: String) -> Int? { memos.withLock { $0[key] } }

    /// Remembers (or, with nil, forgets) a handle for the lifetime of this connection.
    public func remember(_ key: String, handle: Int?) { memos.withLock { $0[key] = handle } }

    /// Sends one request with named parameters and waits for its response.
    public func call(handle: Int, method: String, params: [String: JSONValue] = [:], timeout: Duration? = nil) async throws -> Response {
        let timeout = CallDeadline.capped(timeout ?? options.requestTimeout)
        guard timeout > .zero else { throw QIXClientError.timeout(method: method, after: .zero) }
        return try await instrumentation.measure(method: method, handle: handle, engine: engineID) {
            try await self.send(handle: handle, method: method, params: params, timeout: timeout)
        }
    }

    private func send(handle: Int, method: String, params: [String: JSONValue], timeout: Duration) async throws -> Response {
        let text = try state.withLock { state -> (Int, String, WebSocketOutboundWriter) in
            if let reason = state.closedReason { throw QIXClientError.connectionClosed(reason: reason) }
            if state.closedHandles.contains(handle) { throw QIXClientError.handleClosed(handle: handle) }
            guard let writer = state.writer else { throw QIXClientError.connectionClosed(reason: "not connected") }
            let id = state.nextID
            state.nextID += 1
            state.lastUsed = .now
            state.pending[id] = Pending(method: method)
            let text = JSONCoding.serialize([
                "jsonrpc": "2.0", "id": .number(Double(id)), "handle": .number(Double(handle)),
                "method": .string(method), "params": .object(params),
            ])
            return (id, text, writer)
        }
        let (id, message, writer) = text
        let timer = DeadlineWheel.shared.schedule(after: timeout) { [weak self] in
            self?.complete(id: id, with: .failure(QIXClientError.timeout(method: method, after: timeout)))
        }
        state.withLock { $0.pending[id]?.timeoutToken = timer }
        return try await withTaskCancellationHandler {
            do {
                try await writer.write(.text(message))
            } catch {
                complete(id: id, with: .failure(QIXClientError.connectionClosed(reason: "could not send: \(error)")))
            }
            return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Response, any Error>) in
                let ready: Result<Response, any Error>? = state.withLock { state in
                    guard var pending = state.pending[id] else {
                        return .failure(QIXClientError.connectionClosed(reason: state.closedReason ?? "the request was dropped"))
                    }
                    if case .arrived(let result) = pending.slot {
                        state.pending[id] = nil
                        return result
                    }
                    pending.slot = .waiting(continuation)
                    state.pending[id] = pending
                    return nil
                }
                if let ready {
                    DeadlineWheel.shared.cancel(timer)
                    continuation.resume(with: ready)
                }
            }
        } onCancel: {
            self.complete(id: id, with: .failure(QIXClientError.cancelled(method: method)))
        }
    }

    /// Delivers the outcome of request `id`: resumes its caller, or keeps the outcome until the
    /// caller suspends. Later outcomes (a timeout after the answer) are ignored.
    private func complete(id: Int, with result: Result<Response, any Error>) {
        let continuation = state.withLock { state -> (CheckedContinuation<Response, any Error>, UInt64?)? in
            guard var pending = state.pending[id] else { return nil }
            switch pending.slot {
            case .sending:
                pending.slot = .arrived(result)
                state.pending[id] = pending
                return nil
            case .arrived:
                return nil
            case .waiting(let continuation):
                state.pending[id] = nil
                return (continuation, pending.timeoutToken)
            }
        }
        guard let (continuation, timer) = continuation else { return }
        if let timer { DeadlineWheel.shared.cancel(timer) }
        continuation.resume(with: result)
    }

    /// Closes the socket; waiting requests fail with `connectionClosed`.
    public func close() {
        closeAll(reason: "closed by the client")
        runner.withLock { $0?.cancel() }
    }

    deinit {
        runner.withLock { $0?.cancel() }
    }
}
