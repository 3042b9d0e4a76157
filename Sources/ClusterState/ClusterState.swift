import Foundation
import Logging
import MCPAuth
import RedisClient

/// Shared state of a cluster of replicas in Redis (`serve --state redis`): sessions, their event
/// logs, the bus between replicas and the OAuth proxy's state. With `--state memory` (the
/// default, and always for stdio) none of this exists and each process keeps its own state.
public final class ClusterState: Sendable {
    public let pool: RedisConnectionPool
    public let subscriber: RedisSubscriber
    public let keys: ClusterKeys
    public let sessions: RedisSessionStore
    public let bus: SessionBus
    public let authStore: RedisAuthStateStore
    /// Identifies this process on the bus (host name + random suffix).
    public let replicaID: String

    public init(configuration: RedisConfiguration, keys: ClusterKeys = ClusterKeys(), idleTimeout: Duration, maxConnections: Int = 16, logger: Logger) {
        self.pool = RedisConnectionPool(configuration: configuration, maxConnections: maxConnections)
        self.subscriber = RedisSubscriber(configuration: configuration, logger: logger)
        self.keys = keys
        let host = ProcessInfo.processInfo.hostName.prefix(40)
        self.replicaID = "\(host)-\(UUID().uuidString.prefix(8).lowercased())"
        self.sessions = RedisSessionStore(pool: pool, keys: keys, idleTimeout: idleTimeout)
        self.bus = SessionBus(pool: pool, subscriber: subscriber, keys: keys, replicaID: replicaID)
        self.authStore = RedisAuthStateStore(pool: pool, keys: keys)
    }

    /// The event log of one session.
    public func eventLog(session: String, maxEvents: Int, maxBytes: Int) -> RedisEventLog {
        RedisEventLog(pool: pool, keys: keys, sessionID: session, maxEvents: maxEvents, maxBytes: maxBytes, ttl: sessions.idleTimeout)
    }

    /// Round trip to Redis (readiness); throws when it is unreachable or does not answer in time.
    public func ping() async throws {
        let reply = try await pool.send(["PING"], timeout: .seconds(2))
        guard reply.string == "PONG" else { throw RedisError.protocolViolation("PING answered \(reply)") }
    }

    /// How long to wait before retrying after `error` (Redis backing off a reconnect), if known.
    public static func retryAfter(of error: any Error) -> Duration? {
        if case .unavailable(_, let retryAfter)? = error as? RedisError { return retryAfter }
        return nil
    }

    public func shutdown() async {
        await subscriber.shutdown()
        await pool.shutdown()
    }
}
