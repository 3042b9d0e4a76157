import ClusterState
import Foundation
import JSONCore
import Logging
import MCP

/// One session of the legacy HTTP+SSE transport (protocol 2024-11-05): `GET /sse` opens the
/// stream and announces `event: endpoint` with the URL to POST to; every server message is an
/// `event: message` on that stream; `POST /messages?sessionId=…` carries client messages. The
/// session ends when the stream closes.
actor LegacySSESession: HostedTransport, EnvelopeTransport {
    nonisolated let logger: Logger
    nonisolated let sessionID: String
    private let incoming: AsyncThrowingStream<JSONRPCEnvelope, any Error>
    private let incomingContinuation: AsyncThrowingStream<JSONRPCEnvelope, any Error>.Continuation
    private var stream: AsyncThrowingStream<Data, any Error>.Continuation?
    private(set) var lastActivity = ContinuousClock.now
    private var terminated = false
    private var keepalive: Task<Void, Never>?
    private var subscription: SessionBus.Subscription?
    private var busInbox: AsyncStream<String>.Continuation?

    init(sessionID: String, logger: Logger) {
        self.sessionID = sessionID
        self.logger = logger
        (incoming, incomingContinuation) = AsyncThrowingStream<JSONRPCEnvelope, any Error>.makeStream()
    }

    func connect() async throws {}
    func disconnect() async { terminate() }
    func receive() -> AsyncThrowingStream<Data, any Error> {
        JSONRPCEnvelope.bytes(of: incoming)
    }

    func receiveEnvelopes() -> AsyncThrowingStream<JSONRPCEnvelope, any Error> { incoming }

    func send(_ data: Data) async throws {
        guard !terminated, let stream else { throw MCPError.connectionClosed }
        stream.yield(StreamableHTTPSession.sse(id: nil, data: data, retry: nil))
    }

    var hasOpenStreams: Bool { stream != nil }

    /// Opens the event stream; `endpoint` is the path clients POST to.
    func open(endpoint: String, onClose: @escaping @Sendable () async -> Void) -> AsyncThrowingStream<Data, any Error> {
        let (events, continuation) = AsyncThrowingStream<Data, any Error>.makeStream(bufferingPolicy: .bufferingNewest(4_096))
        continuation.yield(Data("event: endpoint\ndata: \(endpoint)\n\n".utf8))
        continuation.onTermination = { _ in Task { await onClose() } }
        stream = continuation
        // Keep-alive comments find dead connections (the write fails, the stream ends, the session closes).
        keepalive = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: StreamableHTTPSession.keepaliveInterval)
                await self?.sendKeepalive()
            }
        }
        return events
    }

    private func sendKeepalive() { stream?.yield(Data(": keepalive\n\n".utf8)) }

    /// A POSTed client message (parsed by the route).
    func post(_ envelope: JSONRPCEnvelope) -> Bool {
        guard !terminated else { return false }
        lastActivity = .now
        incomingContinuation.yield(envelope)
        return true
    }

    /// Takes client messages POSTed to other replicas from the bus (`--state redis`).
    func listen(on bus: SessionBus) async {
        let (inbox, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingNewest(1_000))
        busInbox = continuation
        do {
            subscription = try await bus.listen(
                session: sessionID,
                onMessage: { message in
                    if case .inbound(let data) = message { continuation.yield(data) }
                }, resync: {})
        } catch {
            logger.warning("could not subscribe to the session's bus; only POSTs to this replica reach the session", metadata: Logger.Metadata.error(error))
            return
        }
        Task { [weak self] in
            for await text in inbox {
                guard let envelope = JSONRPCEnvelope.parse(Data(text.utf8)), envelope.message.objectValue != nil else { continue }
                _ = await self?.post(envelope)
            }
        }
        if terminated {
            continuation.finish()
            await subscription?.cancel()
        }
    }

    func terminate() {
        guard !terminated else { return }
        terminated = true
        busInbox?.finish()
        if let subscription {
            self.subscription = nil
            Task { await subscription.cancel() }
        }
        keepalive?.cancel()
        stream?.finish()
        stream = nil
        incomingContinuation.finish()
    }

    func closeStreams() { terminate() }
}
