import Foundation
import Testing

@testable import RateLimiting

@Suite("Rate limits (GCRA)")
struct RateLimitTests {
    static let fivePerSecond = RateLimit(name: "principal", perSecond: 5, burst: 5)

    @Test("rates are read as COUNT/UNIT; anything else is refused with the reason")
    func parsing() throws {
        #expect(try RateLimit.parse(rate: "5/s").get() == 5)
        #expect(try RateLimit.parse(rate: "300/m").get() == 5)
        #expect(try RateLimit.parse(rate: "1/min").get() == 1.0 / 60)
        #expect(try RateLimit.parse(rate: "3600/h").get() == 1)
        for bad in ["5", "five/s", "5/week", "-1/s", "0/s", "2000000/s", "5/s/x"] {
            #expect(throws: RateLimitSyntaxError.self, "\(bad)") { _ = try RateLimit.parse(rate: bad).get() }
        }
        #expect(RateLimit.format(5) == "5/s" && RateLimit.format(1.0 / 60) == "1/m")
    }

    @Test("a burst, then the steady rate: 5/s burst 5 admits 5 at once and then one every 200 ms, telling the caller when")
    func burstThenRate() {
        let limiter = LocalRateLimiter()
        let check = [RateLimitCheck(key: "p", limit: Self.fivePerSecond)]
        var admitted = 0
        for _ in 0..<50 where limiter.decide(check, now: 100).allowed { admitted += 1 }
        #expect(admitted == 5)
        let refused = limiter.decide(check, now: 100)
        #expect(!refused.allowed && abs(refused.retryAfter - 0.2) < 1e-6)
        #expect(refused.stateHeader == "\"principal\";r=0;t=1" && refused.policyHeader == "\"principal\";q=5;w=1")
        // Calling again when told succeeds; a little earlier does not.
        #expect(!limiter.decide(check, now: 100 + refused.retryAfter - 0.01).allowed)
        #expect(limiter.decide(check, now: 100 + refused.retryAfter).allowed)
        // Over 3 s of a flood: 5 + 5 × 3.
        let fresh = LocalRateLimiter()
        var total = 0
        var now = 0.0
        while now <= 3.0 {
            if fresh.decide([RateLimitCheck(key: "q", limit: Self.fivePerSecond)], now: now).allowed { total += 1 }
            now += 0.01
        }
        #expect(total == 20)
    }

    @Test("limits are per key, and several limits on one call admit only together (a refusal charges none)")
    func keysAndCombinations() {
        let limiter = LocalRateLimiter()
        let tool = RateLimit(name: "tool:reload_app", perSecond: 1.0 / 60, burst: 1)
        let first = [RateLimitCheck(key: "a", limit: Self.fivePerSecond), RateLimitCheck(key: "a:reload", limit: tool)]
        #expect(limiter.decide(first, now: 0).allowed)
        let second = limiter.decide(first, now: 1)
        #expect(!second.allowed && second.limit?.name == "tool:reload_app" && abs(second.retryAfter - 59) < 1e-6)
        // The principal limit was not charged by the refused call: 4 more fit in its burst at t=1.
        var admitted = 0
        for _ in 0..<10 where limiter.decide([RateLimitCheck(key: "a", limit: Self.fivePerSecond)], now: 1).allowed { admitted += 1 }
        #expect(admitted == 5)  // 4 left from the burst + 1 refilled after 1 s
        #expect(limiter.decide([RateLimitCheck(key: "b", limit: Self.fivePerSecond)], now: 1).allowed, "another key is unaffected")
    }

    @Test("bounded: beyond maxKeys, idle keys go first and the limiter keeps deciding")
    func bounded() {
        let limiter = LocalRateLimiter(maxKeys: 100)
        for index in 0..<1_000 { _ = limiter.decide([RateLimitCheck(key: "k\(index)", limit: Self.fivePerSecond)], now: Double(index)) }
        #expect(limiter.count <= 100)
        // A key flooding right now keeps its state through the churn of idle ones.
        let hot = [RateLimitCheck(key: "hot", limit: Self.fivePerSecond)]
        for _ in 0..<5 { #expect(limiter.decide(hot, now: 2_000).allowed) }
        for index in 0..<50 { _ = limiter.decide([RateLimitCheck(key: "idle\(index)", limit: Self.fivePerSecond)], now: 2_000) }
        #expect(!limiter.decide(hot, now: 2_000).allowed)
    }

    @Test("a share of the limit (local fallback for a cluster of N replicas)")
    func share() {
        let limiter = LocalRateLimiter(share: 1.0 / 3)
        let check = [RateLimitCheck(key: "p", limit: RateLimit(name: "principal", perSecond: 30, burst: 30))]
        var admitted = 0
        for _ in 0..<100 where limiter.decide(check, now: 0).allowed { admitted += 1 }
        #expect(admitted == 10)
    }
}

@Suite("Once per window")
struct OncePerWindowTests {
    @Test("a key passes once per window; the memory is bounded and stays quiet when full of fresh keys")
    func oncePerWindow() {
        let gate = OncePerWindow(window: .seconds(60), maxKeys: 2)
        let start = ContinuousClock.now
        #expect(gate.first("a", now: start))
        #expect(!gate.first("a", now: start + .seconds(59)))
        #expect(gate.first("a", now: start + .seconds(61)))
        #expect(gate.first("b", now: start + .seconds(61)))
        #expect(!gate.first("c", now: start + .seconds(62)), "full of fresh keys")
        #expect(gate.first("c", now: start + .seconds(200)), "expired keys make room")
    }
}
