import Foundation
import MCPAuth
import RedisClient

/// The OAuth proxy's state in Redis, shared by every replica: each entry a key with its TTL;
/// one-time use is atomic (`GETDEL`, `SET NX`), so a code or refresh token redeemed on two
/// replicas at once is accepted once. Values are the proxy's JSON records; keys of secrets are
/// their SHA-256 digests (never the secret). Redis errors are thrown: the proxy answers 503
/// `temporarily_unavailable` and never treats an outage as "unknown code".
///
/// Bounded by Redis itself: run it with `maxmemory` and `noeviction` (the bundled chart does),
/// so a registration flood fails writes instead of evicting a user's pending login.
public struct RedisAuthStateStore: AuthStateStore {
    let pool: RedisConnectionPool
    let keys: ClusterKeys

    public init(pool: RedisConnectionPool, keys: ClusterKeys) {
        self.pool = pool
        self.keys = keys
    }

    static func milliseconds(_ ttl: Duration) -> String {
        String(max(1, ttl.components.seconds * 1_000 + ttl.components.attoseconds / 1_000_000_000_000_000))
    }

    public func put(_ value: Data, namespace: String, key: String, ttl: Duration) async throws {
        try await pool.send(["SET", keys.auth(namespace, key), String(decoding: value, as: UTF8.self), "PX", Self.milliseconds(ttl)])
    }

    public func get(namespace: String, key: String) async throws -> Data? {
        try await pool.send(["GET", keys.auth(namespace, key)]).string.map { Data($0.utf8) }
    }

    public func take(namespace: String, key: String) async throws -> Data? {
        try await pool.send(["GETDEL", keys.auth(namespace, key)]).string.map { Data($0.utf8) }
    }

    public func claim(namespace: String, key: String, ttl: Duration) async throws -> Bool {
        try await pool.send(["SET", keys.auth(namespace, key), "1", "NX", "PX", Self.milliseconds(ttl)]) != .null
    }

    public func remove(namespace: String, key: String) async throws {
        try await pool.send(["DEL", keys.auth(namespace, key)])
    }
}
