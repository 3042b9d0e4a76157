import ClusterState
import DemoEngine
import Foundation
import JSONCore
import QlikEngine
import QlikTools
import RedisClient
import TestSupport
import Testing

@testable import ToolCache

/// The Redis tier and two "replicas" (two cache layers on one Redis) against a real redis-server.
@Suite("Tool cache with a shared Redis tier", .serialized)
struct SharedTierTests {
    static func tier(_ redis: RedisServerProcess, prefix: String = "test:") -> RedisCacheTier {
        let configuration = RedisConfiguration(url: RedisURL(host: "127.0.0.1", port: redis.port))
        return RedisCacheTier(
            pool: RedisConnectionPool(configuration: configuration), subscriber: RedisSubscriber(configuration: configuration), keys: ClusterKeys(prefix: prefix))
    }

    static func redisMode() -> CacheSettings {
        var settings = CacheSettings()
        settings.mode = .redis
        return settings
    }

    static let byRegion: JSONValue = ["app_id": "sales-analytics", "dimensions": ["Region"], "measures": ["Sum(Sales)"]]

    /// Waits (event-driven by polling state, bounded) until `condition` holds.
    static func eventually(_ condition: () -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(10))  // polling an event's effect, bounded by the deadline
        }
        return condition()
    }

    @Test("users with different engine identities never see each other's rows — in L1, in L2, across replicas")
    func isolation() async throws {
        let redis = try await RedisServerProcess()
        defer { redis.stop() }
        var rules = SectionAccess()
        try rules.add("CORP\\alice=Region:Americas")
        try rules.add("CORP\\bob=Region:Asia Pacific")
        try await CacheFixture.with(tls: true, sectionAccess: rules) { fixture in
            let alice = fixture.backend.acting(as: try fixture.backend.endpoint.actingAs(userDirectory: "CORP", userID: "alice"))
            let bob = fixture.backend.acting(as: try fixture.backend.endpoint.actingAs(userDirectory: "CORP", userID: "bob"))
            // What each user really sees (no cache).
            var off = CacheSettings()
            off.mode = .off
            let truth = fixture.layer(off)
            let aliceRows = try await truth.call("query_data", Self.byRegion, backend: alice).structured["rows"]
            let bobRows = try await truth.call("query_data", Self.byRegion, backend: bob).structured["rows"]
            #expect(aliceRows?.arrayValue?.count == 1 && bobRows?.arrayValue?.count == 1)
            #expect(aliceRows != bobRows)
            let replicaA = fixture.layer(Self.redisMode(), shared: Self.tier(redis))
            let replicaB = fixture.layer(Self.redisMode(), shared: Self.tier(redis))
            await replicaA.start()
            await replicaB.start()
            // Alice fills A (L1) and Redis (L2); Bob asks the same question on A and on B.
            #expect(try await replicaA.call("query_data", Self.byRegion, backend: alice).structured["rows"] == aliceRows)
            let bobOnA = try await replicaA.call("query_data", Self.byRegion, backend: bob)
            #expect(bobOnA.cache == "miss" && bobOnA.structured["rows"] == bobRows)
            let aliceOnB = try await replicaB.call("query_data", Self.byRegion, backend: alice)
            #expect(aliceOnB.cache == "hit" && aliceOnB.tier == "l2" && aliceOnB.structured["rows"] == aliceRows)
            let bobOnB = try await replicaB.call("query_data", Self.byRegion, backend: bob)
            #expect(bobOnB.cache == "hit" && bobOnB.tier == "l2" && bobOnB.structured["rows"] == bobRows)
            // Metadata is per identity too (section access can hide fields).
            let aliceModel = try await replicaA.call("list_fields", ["app_id": "sales-analytics"], backend: alice)
            #expect(try await replicaB.call("list_fields", ["app_id": "sales-analytics"], backend: bob).cache == "miss")
            #expect(try await replicaB.call("list_fields", ["app_id": "sales-analytics"], backend: alice).structured == aliceModel.structured)
        }
    }

    @Test("a flush or a reload on one replica drops the answers on the other")
    func crossReplicaInvalidation() async throws {
        let redis = try await RedisServerProcess()
        defer { redis.stop() }
        try await CacheFixture.with { fixture in
            let replicaA = fixture.layer(Self.redisMode(), shared: Self.tier(redis))
            let replicaB = fixture.layer(Self.redisMode(), shared: Self.tier(redis))
            await replicaA.start()
            await replicaB.start()
            let sales: JSONValue = ["app_id": "sales-analytics"]
            let before = try await replicaB.call("get_app", sales)
            #expect(try await replicaB.call("get_app", sales).tier == "l1")
            _ = try await replicaA.call("reload_app", sales)
            #expect(try await Self.eventually { replicaB.memory.usage.entries == 0 })
            let after = try await replicaB.call("get_app", sales)
            #expect(after.cache == "miss")
            #expect(after.structured["last_reload_time"] != before.structured["last_reload_time"])
            // A flush of everything, from a third process (the CLI's path: Redis only).
            _ = try await replicaB.call("list_measures", sales)
            let entriesBefore = replicaB.memory.usage.entries
            #expect(entriesBefore > 0)
            let cli = Self.tier(redis)
            let generation = try await cli.bumpGeneration("*")
            try await cli.publish(.flushed(app: nil, generation: generation))
            #expect(try await Self.eventually { replicaB.memory.usage.entries == 0 })
            #expect(try await replicaB.call("list_measures", sales).cache == "miss")
        }
    }

    @Test("Redis down: L1 keeps answering, no error reaches the caller, the failure is counted")
    func redisDown() async throws {
        try await CacheFixture.with { fixture in
            let closed = RedisConfiguration(url: RedisURL(host: "127.0.0.1", port: freeLoopbackPort()))
            let tier = RedisCacheTier(pool: RedisConnectionPool(configuration: closed), subscriber: RedisSubscriber(configuration: closed), keys: ClusterKeys())
            let cache = fixture.layer(Self.redisMode(), shared: tier)
            await cache.start()
            let sales: JSONValue = ["app_id": "sales-analytics"]
            let first = try await cache.call("list_measures", sales)
            #expect(!first.isError && first.cache == "miss")
            let second = try await cache.call("list_measures", sales)
            #expect(!second.isError && second.cache == "hit" && second.tier == "l1")
            #expect(!cache.sharedUsable)
            let flushed = try await cache.call("flush_cache", [:])
            #expect(!flushed.isError)
            #expect(try await cache.call("list_measures", sales).cache == "miss")
        }
    }

    @Test("an L2 entry that is malformed or of another format is a miss, never an answer")
    func malformedEntries() async throws {
        let redis = try await RedisServerProcess()
        defer { redis.stop() }
        #expect(CacheEntry.decode(Data("not json".utf8)) == nil)
        #expect(CacheEntry.decode(Data(#"{"v":2,"c":"metadata","at":1,"fresh":2,"stale":2,"s":{},"t":""}"#.utf8)) == nil)
        #expect(CacheEntry.decode(Data(#"{"v":1,"c":"metadata","at":1,"fresh":2,"stale":2}"#.utf8)) == nil)
        let tier = Self.tier(redis)
        try await tier.set("x", Data("garbage".utf8), ttl: .seconds(10))
        #expect(try await tier.get("x") == Data("garbage".utf8))
        #expect(try await tier.get("absent") == nil)
        #expect(try await tier.bumpGeneration("app") == 1)
        #expect(try await tier.bumpGeneration("app") == 2)
        #expect(try await tier.generations() == ["app": 2])
    }
}
