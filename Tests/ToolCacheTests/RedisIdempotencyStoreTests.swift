import ClusterState
import Foundation
import RedisClient
import Resilience
import TestSupport
import Testing

/// The idempotency keys of `--state redis` servers in a real redis-server.
@Suite("Idempotency keys in Redis", .serialized)
struct RedisIdempotencyStoreTests {
    @Test("the Redis store keeps the store contract, and two replicas see one key")
    func contract() async throws {
        let redis = try await RedisServerProcess()
        defer { redis.stop() }
        let pool = RedisConnectionPool(configuration: RedisConfiguration(url: RedisURL(host: "127.0.0.1", port: redis.port)))
        let store = RedisIdempotencyStore(pool: pool, keys: ClusterKeys(prefix: "t:"))
        try await IdempotencyStoreContract.check(store)
        let replica = RedisIdempotencyStore(pool: RedisConnectionPool(configuration: RedisConfiguration(url: RedisURL(host: "127.0.0.1", port: redis.port))), keys: ClusterKeys(prefix: "t:"))
        guard case .claimed = try await store.claim("shared", fingerprint: "f", lease: .seconds(30)) else { Issue.record("claim"); return }
        guard case .inProgress = try await replica.claim("shared", fingerprint: "f", lease: .seconds(30)) else { Issue.record("the other replica sees the claim"); return }
        // Redis gone: the store throws (the caller refuses the call), it never answers "claimed".
        redis.stop()
        await #expect(throws: (any Error).self) { _ = try await store.claim("after", fingerprint: "f", lease: .seconds(30)) }
        await pool.shutdown()
    }
}
