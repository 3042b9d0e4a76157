import ClusterState
import Foundation
import RedisClient
import Resilience
import TestSupport
import Testing

/// The dead letters of `--state redis` servers in a real redis-server.
@Suite("Dead letters in a Redis stream", .serialized)
struct RedisDeadLetterStoreTests {
    @Test("append, list oldest first, get, remove, count; bounded; shared by every instance on the same Redis")
    func roundTrip() async throws {
        let redis = try await RedisServerProcess()
        defer { redis.stop() }
        let pool = RedisConnectionPool(configuration: RedisConfiguration(url: RedisURL(host: "127.0.0.1", port: redis.port)))
        let store = RedisDeadLetterStore(pool: pool, keys: ClusterKeys(prefix: "t:"), maxEntries: 1_000)
        var ids: [String] = []
        for index in 0..<3 {
            let letter = DeadLetter(operation: "reload_app", arguments: "{\"app_id\":\"a\(index)\"}", principal: nil, errorCode: "E", errorMessage: "m", attempts: 1)
            ids.append(letter.id)
            try await store.append(letter)
        }
        let other = RedisDeadLetterStore(pool: pool, keys: ClusterKeys(prefix: "t:"))
        #expect(try await other.list(limit: 10).map(\.id) == ids)
        #expect(try await other.get(ids[1])?.arguments == "{\"app_id\":\"a1\"}")
        #expect(try await other.remove(ids[1]))
        #expect(try await !other.remove(ids[1]))
        #expect(try await store.count() == 2)
        #expect(try await store.list(limit: 1).map(\.id) == [ids[2]])
        await pool.shutdown()
    }
}
