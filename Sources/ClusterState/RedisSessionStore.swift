import RedisClient

/// Sessions in Redis: one JSON record per session with the idle timeout as TTL, and a sorted set
/// of live ids scored by expiry, which makes the session limit cluster-wide. Each operation is
/// one Lua script (atomic, one round trip); times come from Redis (`TIME`), so replicas with
/// skewed clocks agree.
public struct RedisSessionStore: Sendable {
    public enum CreateOutcome: Sendable, Equatable {
        case created
        /// The cluster holds `limit` live sessions.
        case full(limit: Int)
    }

    let pool: RedisConnectionPool
    let keys: ClusterKeys
    /// Idle expiry of a session (the TTL every request refreshes).
    public let idleTimeout: Duration

    public init(pool: RedisConnectionPool, keys: ClusterKeys, idleTimeout: Duration) {
        self.pool = pool
        self.keys = keys
        self.idleTimeout = idleTimeout
    }

    var ttlMilliseconds: String { String(max(1_000, idleTimeout.components.seconds * 1_000)) }

    /// Stores a new session unless the cluster already has `maxSessions` live ones.
    public func create(_ record: SessionRecord, maxSessions: Int) async throws -> CreateOutcome {
        let reply = try await pool.run(
            Self.createScript, keys: [keys.sessionIndex, keys.session(record.id)],
            arguments: [ttlMilliseconds, String(maxSessions), record.id, try record.json()])
        return reply.int == 1 ? .created : .full(limit: maxSessions)
    }

    /// The session's record, its TTL (and its event log's) refreshed; nil when it does not exist
    /// (never created, deleted, or expired).
    public func touch(_ id: String) async throws -> SessionRecord? {
        let reply = try await pool.run(
            Self.touchScript, keys: [keys.sessionIndex, keys.session(id), keys.events(id), keys.eventMeta(id)],
            arguments: [ttlMilliseconds, id])
        return reply.string.flatMap(SessionRecord.decode)
    }

    /// Replaces the record of a live session (keeping its TTL); false when it no longer exists.
    @discardableResult
    public func update(_ record: SessionRecord) async throws -> Bool {
        let reply = try await pool.send(["SET", keys.session(record.id), try record.json(), "XX", "KEEPTTL"])
        return reply != .null
    }

    /// Deletes the session and its events.
    public func delete(_ id: String) async throws {
        _ = try await pool.pipeline(
            [["DEL", keys.session(id), keys.events(id), keys.eventMeta(id)], ["ZREM", keys.sessionIndex, id]], operation: "session_delete")
    }

    /// Live sessions in the cluster.
    public func count() async throws -> Int {
        Int(try await pool.run(Self.countScript, keys: [keys.sessionIndex], arguments: []).int ?? 0)
    }

    static let now = "local t = redis.call('TIME'); local now = t[1] * 1000 + math.floor(t[2] / 1000)\n"

    static let createScript = RedisScript(
        name: "session_create",
        source: now + """
            redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
            if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
            redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[1])
            redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[3])
            return 1
            """)

    static let touchScript = RedisScript(
        name: "session_touch",
        source: now + """
            local record = redis.call('GET', KEYS[2])
            if not record then
              redis.call('ZREM', KEYS[1], ARGV[2])
              return false
            end
            redis.call('PEXPIRE', KEYS[2], ARGV[1])
            redis.call('PEXPIRE', KEYS[3], ARGV[1])
            redis.call('PEXPIRE', KEYS[4], ARGV[1])
            redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[1]), ARGV[2])
            return record
            """)

    static let countScript = RedisScript(
        name: "session_count",
        source: now + """
            redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
            return redis.call('ZCARD', KEYS[1])
            """)
}
