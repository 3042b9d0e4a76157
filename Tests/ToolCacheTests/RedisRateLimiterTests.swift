import ClusterState
import Foundation
import RateLimiting
import RedisClient
import TestSupport
import Testing

/// Cluster-wide rate limits in a real redis-server.
@Suite("Rate limits in Redis", .serialized)
struct RedisRateLimiterTests {
    static func limiter(_ port: Int, share: Double = 1) -> RedisRateLimiter {
        RedisRateLimiter(
            pool: RedisConnectionPool(configuration: RedisConfiguration(url: RedisURL(host: "127.0.0.1", port: port))), keys: ClusterKeys(prefix: "t:"),
            fallback: LocalRateLimiter(share: share))
    }

    @Test("three replicas admit together what one would (burst, then the rate), with the same arithmetic as in process; Redis gone → each its share")
    func sharedAcrossReplicas() async throws {
        let redis = try await RedisServerProcess()
        let replicas = [Self.limiter(redis.port, share: 1.0 / 3), Self.limiter(redis.port, share: 1.0 / 3), Self.limiter(redis.port, share: 1.0 / 3)]
        // One request per 100 s after the burst: nothing refills while the test runs, however slowly.
        let limit = RateLimit(name: "principal", perSecond: 0.01, burst: 30)
        let check = [RateLimitCheck(key: "p:alice", limit: limit)]
        // 90 requests spread round-robin over the replicas, at once: the burst (30) is admitted, not 3 × 30.
        var admitted = 0
        var refusal: RateLimitDecision?
        for index in 0..<90 {
            let decision = await replicas[index % 3].check(check)
            if decision.allowed { admitted += 1 } else { refusal = refusal ?? decision }
            #expect(!decision.fallback)
        }
        #expect(admitted == 30, "admitted \(admitted)")
        let refused = try #require(refusal)
        #expect(refused.limit?.name == "principal" && refused.retryAfter > 40 && refused.retryAfter <= 100)
        #expect(refused.policyHeader == "\"principal\";q=30;w=3000")
        // All-or-nothing over several limits, like the local limiter.
        let tool = RateLimit(name: "tool:reload_app", perSecond: 1.0 / 60, burst: 1)
        let both = [RateLimitCheck(key: "p:bob", limit: limit), RateLimitCheck(key: "pt:bob:reload_app", limit: tool)]
        #expect(await replicas[0].check(both).allowed)
        let second = await replicas[1].check(both)
        #expect(!second.allowed && second.limit?.name == "tool:reload_app" && second.retryAfter > 55)
        #expect(await replicas[2].check([RateLimitCheck(key: "p:bob", limit: limit)]).remaining == 28, "the refused call charged nothing")
        // Redis killed: each replica decides alone with a third of the limit — bounded, flagged, no crash.
        redis.stop()
        var local = 0
        for index in 0..<90 {
            let decision = await replicas[index % 3].check([RateLimitCheck(key: "p:carol", limit: limit)])
            #expect(decision.fallback)
            if decision.allowed { local += 1 }
        }
        #expect(local == 30, "fallback admitted \(local)")  // 10 per replica
    }
}
