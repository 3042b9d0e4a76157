import Logging

/// Pub/sub on one dedicated connection (a subscribed RESP3 connection could carry commands too,
/// but keeping it apart means a slow handler never delays a command).
///
/// Channels are subscribed while at least one handler listens. When the connection drops, the
/// subscriber reconnects with backoff, subscribes again and tells every handler `.resubscribed`:
/// messages published meanwhile were missed, so a handler that must not lose any re-reads its
/// durable source (the event log) from where it was.
public actor RedisSubscriber {
    /// What a handler receives.
    public enum Delivery: Sendable {
        case message(String)
        /// The connection was re-established; messages of the outage are lost.
        case resubscribed
    }

    public typealias Handler = @Sendable (Delivery) -> Void

    private let configuration: RedisConfiguration
    private let logger: Logger
    private var handlers: [String: [Int: Handler]] = [:]
    private var nextToken = 0
    private var connection: RedisConnection?
    private var connecting: Task<RedisConnection, any Error>?
    private var reconnect: Task<Void, Never>?
    private var closed = false

    public init(configuration: RedisConfiguration, logger: Logger = Logger(label: "qlik-mcp.redis.pubsub")) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Channels with at least one handler.
    public var channelCount: Int { handlers.count }

    /// Starts delivering `channel`'s messages to `handler`; returns once Redis confirmed the
    /// subscription (so nothing published after this returns is missed). The token ends it.
    public func subscribe(_ channel: String, handler: @escaping Handler) async throws -> Int {
        guard !closed else { throw RedisError.connectionClosed }
        nextToken += 1
        let token = nextToken
        let first = handlers[channel] == nil
        handlers[channel, default: [:]][token] = handler
        do {
            let connection = try await connected()
            if first { try await connection.send(["SUBSCRIBE", channel]) }
        } catch {
            remove(channel, token)
            throw error
        }
        return token
    }

    /// Stops one handler; the channel is unsubscribed when it has none left.
    public func unsubscribe(_ channel: String, token: Int) async {
        guard remove(channel, token), let connection, connection.isOpen else { return }
        _ = try? await connection.send(["UNSUBSCRIBE", channel])
    }

    public func shutdown() async {
        closed = true
        reconnect?.cancel()
        handlers.removeAll()
        await connection?.close()
        connection = nil
    }

    /// True when the last handler of `channel` left.
    @discardableResult
    private func remove(_ channel: String, _ token: Int) -> Bool {
        handlers[channel]?[token] = nil
        guard handlers[channel]?.isEmpty == true else { return false }
        handlers[channel] = nil
        return true
    }

    private func connected() async throws -> RedisConnection {
        if let connection, connection.isOpen { return connection }
        if let connecting { return try await connecting.value }
        let task = Task { try await RedisConnection.connect(configuration) }
        connecting = task
        defer { connecting = nil }
        let fresh = try await task.value
        connection = fresh
        Task { await self.consume(fresh) }
        return fresh
    }

    private func consume(_ connection: RedisConnection) async {
        for await push in connection.pushes {
            guard push.count == 3, push[0].string == "message", let channel = push[1].string, let payload = push[2].string else { continue }
            if let listeners = handlers[channel] { for handler in listeners.values { handler(.message(payload)) } }
        }
        // The connection ended.
        guard self.connection === connection, !closed else { return }
        self.connection = nil
        if !handlers.isEmpty { scheduleReconnect() }
    }

    private func scheduleReconnect() {
        guard reconnect == nil else { return }
        reconnect = Task {
            var delay = 0.1
            while !Task.isCancelled, !closed, !handlers.isEmpty {
                do {
                    let connection = try await connected()
                    for channel in handlers.keys { try await connection.send(["SUBSCRIBE", channel]) }
                    logger.info("redis pub/sub reconnected", metadata: ["qlik_mcp.redis.channels": .stringConvertible(handlers.count)])
                    for handler in handlers.values.flatMap(\.values) { handler(.resubscribed) }
                    break
                } catch {
                    try? await Task.sleep(for: .milliseconds(Int(delay * Double.random(in: 500...1_000))))
                    delay = min(5, delay * 2)
                }
            }
            reconnect = nil
        }
    }
}
