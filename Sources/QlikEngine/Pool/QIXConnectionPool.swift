import JSONCore
import Logging
import Metrics
import QIXWire
import Resilience

/// Reuses QIX sessions keyed by (engine, identity, app, tag), within limits per engine and per
/// identity (tenant/user), with bounded waiting: when every connection is busy, callers wait up to
/// `waitTimeout` in a queue of at most `maxWaiters`, then get `QIXClientError.engineBusy`.
///
/// Idle sessions are health-checked (`EngineVersion`) after `healthCheckAfterIdle`, recycled after
/// `maxIdle` or `maxAge`, and dropped after a transport error. Selections made during a lease stay
/// with the session: use a distinct `tag` for callers that must not share selection state.
public actor QIXConnectionPool {
    public struct Configuration: Sendable {
        public var maxConnectionsPerEngine = 32
        public var maxConnectionsPerIdentity = 16
        public var maxIdle: Duration = .seconds(300)
        public var maxAge: Duration = .seconds(1800)
        public var healthCheckAfterIdle: Duration = .seconds(30)
        public var waitTimeout: Duration = .seconds(5)
        /// Callers queued for a connection (each is one suspended task, a few hundred bytes).
        /// Sized so 1,000 sessions calling at once queue instead of failing: with 256, a burst of
        /// 1,000 concurrent `list_measures` calls had 70 % of them refused as engine_busy.
        public var maxWaiters = 4_096
        public var connection = QIXConnection.Options()

        public init() {}
    }

    /// What identifies a reusable session.
    public struct Key: Hashable, Sendable {
        public let engine: String
        public let identity: String
        public let appID: String?
        public let tag: String
    }

    /// A session on loan: use it only inside the `withSession` closure.
    public struct Lease: Sendable {
        public let connection: QIXConnection
        public let global: Global
        /// The opened app (nil for Global-only sessions).
        public let doc: Doc?
    }

    private struct Entry {
        let lease: Lease
        let key: Key
        var returnedAt: ContinuousClock.Instant
    }

    private enum Grant {
        case entry(Entry)
        case slot
    }

    private struct Waiter {
        let id: Int
        let key: Key
        let continuation: CheckedContinuation<Grant, any Error>
    }

    public let configuration: Configuration
    private let instrumentation: QIXInstrumentation
    private let logger: Logger
    private var idle: [Key: [Entry]] = [:]
    private var perEngine: [String: Int] = [:]
    private var perIdentity: [String: Int] = [:]
    private var waiters: [Waiter] = []
    private var nextWaiterID = 0
    private let idleGauge: Gauge
    private let waiterGauge: Gauge
    private var reconnect: Reconnect?

    /// How failed connection attempts are repeated: the tool calls' retry policy and the retry
    /// budget of the engine, so reconnects cannot multiply the load during an outage either.
    public struct Reconnect: Sendable {
        public var policy: RetryPolicy
        public var budget: @Sendable (_ engineID: String) -> RetryBudget?

        public init(policy: RetryPolicy, budget: @escaping @Sendable (_ engineID: String) -> RetryBudget?) {
            self.policy = policy
            self.budget = budget
        }
    }

    public init(
        configuration: Configuration = Configuration(), instrumentation: QIXInstrumentation = .shared,
        logger: Logger = Logger(label: "qlik-mcp.qix.pool")
    ) {
        self.configuration = configuration
        self.instrumentation = instrumentation
        self.logger = logger
        self.idleGauge = Gauge(label: "qix_pool_idle_connections")
        self.waiterGauge = Gauge(label: "qix_pool_waiters")
    }

    /// Repeats connection attempts that failed before anything was sent (refused, reset, a failed
    /// handshake) with `reconnect`'s backoff and budget, within the call's deadline. Opening a
    /// connection is always safe to repeat, for writes too. Nil: one attempt.
    public func useReconnect(_ reconnect: Reconnect?) { self.reconnect = reconnect }

    /// Connections counted against `engine` (in use or idle).
    public func connectionCount(engine: String) -> Int { perEngine[engine] ?? 0 }
    public var idleCount: Int { idle.values.reduce(0) { $0 + $1.count } }
    public var waiterCount: Int { waiters.count }

    /// Runs `body` with a session to `appID` on `endpoint`, returning it to the pool afterwards.
    /// With `engineIdentity`, connections open the engine session of that identity (see
    /// `QIXEndpoint.url(forApp:identity:)`): its selections are shared with every other
    /// connection of the same identity, in this process or another.
    public func withSession<T: Sendable>(
        _ endpoint: QIXEndpoint, appID: String?, tag: String = "", engineIdentity: String? = nil,
        _ body: @Sendable (Lease) async throws -> T
    ) async throws -> T {
        let key = Key(engine: endpoint.engineID, identity: endpoint.identity, appID: appID, tag: tag)
        let entry = try await acquire(key, endpoint: endpoint, engineIdentity: engineIdentity)
        do {
            let result = try await body(entry.lease)
            release(entry, healthy: entry.lease.connection.isOpen)
            return result
        } catch {
            release(entry, healthy: entry.lease.connection.isOpen && !Self.isTransportError(error))
            throw error
        }
    }

    static func isTransportError(_ error: any Error) -> Bool {
        guard let client = error as? QIXClientError else { return false }
        switch client {
        case .connectionClosed, .timeout, .protocolViolation, .connectionFailed: return true
        default: return false
        }
    }

    private func acquire(_ key: Key, endpoint: QIXEndpoint, engineIdentity: String?) async throws -> Entry {
        while var candidates = idle[key], let entry = candidates.popLast() {
            idle[key] = candidates.isEmpty ? nil : candidates
            updateGauges()
            let connection = entry.lease.connection
            let age = ContinuousClock.now - connection.createdAt
            let idleFor = ContinuousClock.now - entry.returnedAt
            if !connection.isOpen || age > configuration.maxAge || idleFor > configuration.maxIdle {
                discard(entry, reason: connection.isOpen ? nil : "dropped")
                continue
            }
            if idleFor > configuration.healthCheckAfterIdle {
                do {
                    _ = try await connection.call(handle: qixGlobalHandle, method: "EngineVersion", timeout: .seconds(2))
                } catch {
                    discard(entry, reason: "health_check")
                    continue
                }
            }
            return entry
        }
        if !hasRoom(key) { evictIdle(for: key) }
        if hasRoom(key) {
            reserve(key)
            return try await connect(key, endpoint: endpoint, engineIdentity: engineIdentity)
        }
        guard waiters.count < configuration.maxWaiters else {
            throw QIXClientError.engineBusy(engine: key.engine, waited: .zero, limit: configuration.maxConnectionsPerEngine)
        }
        let grant = try await wait(for: key)
        switch grant {
        case .entry(let entry): return entry
        case .slot: return try await connect(key, endpoint: endpoint, engineIdentity: engineIdentity)
        }
    }

    private func wait(for key: Key) async throws -> Grant {
        let id = nextWaiterID
        nextWaiterID += 1
        let timeout = CallDeadline.capped(configuration.waitTimeout)
        let limit = configuration.maxConnectionsPerEngine
        let timer = Task { [weak self] in
            try? await Task.sleep(for: timeout)
            guard !Task.isCancelled else { return }
            await self?.expire(waiter: id, error: QIXClientError.engineBusy(engine: key.engine, waited: timeout, limit: limit))
        }
        defer { timer.cancel() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                waiters.append(Waiter(id: id, key: key, continuation: continuation))
                updateGauges()
            }
        } onCancel: {
            Task { await self.expire(waiter: id, error: CancellationError()) }
        }
    }

    private func expire(waiter id: Int, error: any Error) {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return }
        let waiter = waiters.remove(at: index)
        updateGauges()
        waiter.continuation.resume(throwing: error)
    }

    private func connect(_ key: Key, endpoint: QIXEndpoint, engineIdentity: String?) async throws -> Entry {
        do {
            let connection = try await open(endpoint, appID: key.appID, engineIdentity: engineIdentity)
            let global = Global(connection: connection)
            var doc: Doc?
            if let appID = key.appID {
                do { doc = try await global.openDoc(appID) } catch {
                    connection.close()
                    throw error
                }
            }
            return Entry(lease: Lease(connection: connection, global: global, doc: doc), key: key, returnedAt: .now)
        } catch {
            freeSlot(key)
            throw error
        }
    }

    /// One connection, its failed attempts repeated as `reconnect` allows.
    private func open(_ endpoint: QIXEndpoint, appID: String?, engineIdentity: String?) async throws -> QIXConnection {
        var attempt = 1
        while true {
            do {
                return try await QIXConnection.connect(
                    to: endpoint, appID: appID, identity: engineIdentity, options: configuration.connection, instrumentation: instrumentation, logger: logger)
            } catch QIXClientError.connectionFailed(let url, let reason) {
                let error = QIXClientError.connectionFailed(url: url, reason: reason)
                guard let reconnect, attempt < reconnect.policy.maxAttempts, !Task.isCancelled else { throw error }
                let delay = reconnect.policy.delay(beforeRetry: attempt)
                if let deadline = CallDeadline.current, ContinuousClock.now + delay >= deadline { throw error }
                guard reconnect.budget(endpoint.engineID)?.tryRetry() ?? true else { throw error }
                logger.debug("connecting again", metadata: ["qlik_mcp.retry.attempt": .stringConvertible(attempt + 1), "error.type": "connection_failed"])
                try await Task.sleep(for: delay)
                attempt += 1
            }
        }
    }

    /// Closes the least recently used idle connection that blocks `key` (same engine, or same
    /// identity), so a new kind of session can open. Its session state (selections) is lost.
    private func evictIdle(for key: Key) {
        var oldest: (Key, Int, ContinuousClock.Instant)?
        for (candidateKey, entries) in idle where candidateKey.engine == key.engine || candidateKey.identity == key.identity {
            for (index, entry) in entries.enumerated() where oldest == nil || entry.returnedAt < oldest!.2 {
                oldest = (candidateKey, index, entry.returnedAt)
            }
        }
        guard let (victimKey, index, _) = oldest, var entries = idle[victimKey] else { return }
        let victim = entries.remove(at: index)
        idle[victimKey] = entries.isEmpty ? nil : entries
        victim.lease.connection.close()
        perEngine[victim.key.engine, default: 1] -= 1
        perIdentity[victim.key.identity, default: 1] -= 1
        updateGauges()
    }

    private func hasRoom(_ key: Key) -> Bool {
        (perEngine[key.engine] ?? 0) < configuration.maxConnectionsPerEngine
            && (perIdentity[key.identity] ?? 0) < configuration.maxConnectionsPerIdentity
    }

    private func reserve(_ key: Key) {
        perEngine[key.engine, default: 0] += 1
        perIdentity[key.identity, default: 0] += 1
    }

    /// Returns a slot; a waiter that can use it gets it (it will open its own connection).
    private func freeSlot(_ key: Key) {
        perEngine[key.engine, default: 1] -= 1
        perIdentity[key.identity, default: 1] -= 1
        if let index = waiters.firstIndex(where: { hasRoom($0.key) }) {
            let waiter = waiters.remove(at: index)
            reserve(waiter.key)
            updateGauges()
            waiter.continuation.resume(returning: .slot)
        }
    }

    private func discard(_ entry: Entry, reason: String?) {
        entry.lease.connection.close()
        if let reason { instrumentation.connectionError(reason: reason) }
        freeSlot(entry.key)
    }

    private func release(_ entry: Entry, healthy: Bool) {
        guard healthy else {
            discard(entry, reason: "dropped")
            return
        }
        var returned = entry
        returned.returnedAt = .now
        if let index = waiters.firstIndex(where: { $0.key == entry.key }) {
            let waiter = waiters.remove(at: index)
            updateGauges()
            waiter.continuation.resume(returning: .entry(returned))
            return
        }
        if waiters.contains(where: { $0.key.engine == entry.key.engine }) {
            // Someone needs a connection of another kind to this engine: make room for it.
            discard(entry, reason: nil)
            return
        }
        idle[entry.key, default: []].append(returned)
        updateGauges()
    }

    private func updateGauges() {
        idleGauge.record(idleCount)
        waiterGauge.record(waiters.count)
    }

    /// Closes every idle connection (e.g. at shutdown).
    public func closeIdle() {
        for entries in idle.values { for entry in entries { discard(entry, reason: nil) } }
        idle.removeAll()
        updateGauges()
    }
}
