import Metrics

/// A bounded pool of Redis connections that heals by itself.
///
/// - At most `maxConnections` connections; callers beyond that wait (at most `maxWaiters` of
///   them, each at most `configuration.commandTimeout`), then get `RedisError.unavailable`.
/// - A connection that closed (timeout, server gone) is dropped, never reused.
/// - After a failed connect, new connects wait an exponential backoff with jitter (100 ms doubling
///   to 5 s); meanwhile callers fail at once with `RedisError.unavailable` carrying the time to
///   retry after, so a Redis outage is a fast, clear, retryable error, never a hang. The first
///   successful connect resets the backoff.
public actor RedisConnectionPool {
    public let configuration: RedisConfiguration
    public let maxConnections: Int
    public let maxWaiters: Int
    private var idle: [RedisConnection] = []
    private var open = 0
    private var waiters: [(id: Int, continuation: CheckedContinuation<RedisConnection?, Never>)] = []
    private var nextWaiter = 0
    private var failures = 0
    private var retryAt: ContinuousClock.Instant?
    private var closed = false
    private let instrumentation: RedisInstrumentation
    private let openGauge = Gauge(label: "qlik_mcp_redis_pool_connections")
    private let waiterGauge = Gauge(label: "qlik_mcp_redis_pool_waiters")

    public init(configuration: RedisConfiguration, maxConnections: Int = 8, maxWaiters: Int = 1_024) {
        self.configuration = configuration
        self.instrumentation = RedisInstrumentation(url: configuration.url)
        self.maxConnections = max(1, maxConnections)
        self.maxWaiters = max(0, maxWaiters)
    }

    /// Connections open now (idle or in use).
    public var openConnections: Int { open }

    /// Sends one command on a pooled connection (traced and counted; `operation` names a script).
    @discardableResult
    public func send(_ command: [String], timeout: Duration? = nil, operation: String? = nil) async throws -> RESPValue {
        try await instrumentation.measure(command.first?.uppercased() ?? "?", operation: operation) {
            try await self.withConnection { try await $0.send(command, timeout: timeout) }
        }
    }

    /// Runs `script` (EVALSHA, or EVAL once when Redis does not have it cached: a fresh or
    /// restarted server), traced and counted as one operation named after the script.
    @discardableResult
    public func run(_ script: RedisScript, keys: [String], arguments: [String]) async throws -> RESPValue {
        let tail = [String(keys.count)] + keys + arguments
        return try await instrumentation.measure("EVALSHA", operation: script.name) {
            try await self.withConnection { connection in
                do {
                    return try await connection.send(["EVALSHA", script.sha1] + tail)
                } catch RedisError.server(let message) where message.hasPrefix("NOSCRIPT") {
                    return try await connection.send(["EVAL", script.source] + tail)
                }
            }
        }
    }

    /// Sends several commands in one round trip on one connection; error replies are returned,
    /// not thrown. Traced as one span named by `operation`.
    public func pipeline(_ commands: [[String]], operation: String, timeout: Duration? = nil) async throws -> [RESPValue] {
        try await instrumentation.measure("PIPELINE", operation: operation) {
            try await withConnection { try await $0.pipeline(commands, timeout: timeout) }
        }
    }

    /// Runs `body` with a connection of the pool, returned afterwards unless it closed.
    public func withConnection<T: Sendable>(_ body: @Sendable (RedisConnection) async throws -> T) async throws -> T {
        let connection = try await checkout()
        do {
            let result = try await body(connection)
            checkin(connection)
            return result
        } catch {
            checkin(connection)
            throw error
        }
    }

    /// Closes every idle connection and refuses new work.
    public func shutdown() async {
        closed = true
        let connections = idle
        idle.removeAll()
        open -= connections.count
        for waiter in waiters { waiter.continuation.resume(returning: nil) }
        waiters.removeAll()
        for connection in connections { await connection.close() }
    }

    private func updateGauges() {
        openGauge.record(open)
        waiterGauge.record(waiters.count)
    }

    private func checkout() async throws -> RedisConnection {
        defer { updateGauges() }
        guard !closed else { throw RedisError.connectionClosed }
        while let connection = idle.popLast() {
            if connection.isOpen { return connection }
            open -= 1
        }
        if open < maxConnections { return try await connect() }
        guard waiters.count < maxWaiters else { throw RedisError.unavailable(reason: "all \(maxConnections) Redis connections are busy", retryAfter: .seconds(1)) }
        nextWaiter += 1
        let id = nextWaiter
        let timeout = configuration.commandTimeout
        let timer = Task { [weak self] in
            try? await Task.sleep(for: timeout)
            await self?.expire(id)
        }
        defer { timer.cancel() }
        let handed = await withCheckedContinuation { continuation in
            waiters.append((id, continuation))
            updateGauges()
        }
        guard let handed else {
            throw RedisError.unavailable(reason: "no Redis connection became free within \(timeout)", retryAfter: .seconds(1))
        }
        return handed
    }

    private func expire(_ id: Int) {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return }
        waiters.remove(at: index).continuation.resume(returning: nil)
    }

    private func checkin(_ connection: RedisConnection) {
        defer { updateGauges() }
        guard connection.isOpen, !closed else {
            open -= 1
            // A slot freed: a waiter may connect anew.
            if let waiter = waiters.first {
                waiters.removeFirst()
                Task { waiter.continuation.resume(returning: try? await self.connect()) }
            }
            return
        }
        if let waiter = waiters.first {
            waiters.removeFirst()
            waiter.continuation.resume(returning: connection)
        } else {
            idle.append(connection)
        }
    }

    private func connect() async throws -> RedisConnection {
        if let retryAt, ContinuousClock.now < retryAt {
            throw RedisError.unavailable(reason: "Redis at \(configuration.url) was unreachable; reconnecting", retryAfter: retryAt - .now)
        }
        open += 1
        do {
            let connection = try await RedisConnection.connect(configuration)
            failures = 0
            retryAt = nil
            return connection
        } catch {
            open -= 1
            failures += 1
            let base = min(5.0, 0.1 * Double(1 << min(failures - 1, 6)))
            let delay = Duration.milliseconds(Int((base * Double.random(in: 0.5...1.0)) * 1_000))
            retryAt = .now + delay
            throw RedisError.unavailable(reason: "cannot reach Redis at \(configuration.url): \(error)", retryAfter: delay)
        }
    }
}
