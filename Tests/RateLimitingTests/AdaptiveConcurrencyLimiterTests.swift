import Foundation
import Synchronization
import Testing

@testable import RateLimiting

@Suite("Adaptive concurrency limit (AIMD)")
struct AdaptiveConcurrencyLimiterTests {
    final class Order: Sendable {
        let names = Mutex<[String]>([])
    }

    /// Yields until `condition` holds; fails (instead of spinning forever) after 10 s.
    static func waitUntil(_ what: String, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition() {
            guard ContinuousClock.now < deadline else { throw WaitTimedOut(what: what) }
            await Task.yield()
        }
    }

    struct WaitTimedOut: Error {
        let what: String
    }

    static func configuration(initial: Double = 16) -> AdaptiveConcurrencyLimiter.Configuration {
        var configuration = AdaptiveConcurrencyLimiter.Configuration()
        configuration.initialLimit = initial
        configuration.maxWait = .milliseconds(100)
        configuration.maxQueue = 8
        return configuration
    }

    @Test("latency far above the usual shrinks the limit (once per observed latency); back to normal, it grows again")
    func followsLatency() async throws {
        let limiter = AdaptiveConcurrencyLimiter(configuration: Self.configuration())
        func complete(_ latency: Duration, times: Int) async throws {
            for _ in 0..<times {
                try await limiter.acquire(.interactive)
                limiter.release(.completed(latency))
            }
        }
        try await complete(.milliseconds(1), times: 50)
        let before = limiter.limit
        // A sudden slowdown: each 200 ms answer (spaced as real ones would be) is congestion.
        for _ in 0..<4 {
            try await Task.sleep(for: .milliseconds(210))  // decreases are spaced by the observed latency
            try await complete(.milliseconds(200), times: 1)
        }
        let slow = limiter.limit
        #expect(slow < before, "limit \(slow) was \(before)")
        #expect(slow >= 2)
        // Overload signals (timeouts) shrink it as well.
        try await Task.sleep(for: .milliseconds(250))
        try await limiter.acquire(.interactive)
        limiter.release(.overloaded)
        let shrunk = limiter.limit
        #expect(shrunk < slow)
        // Fast again, and the limit in use: it grows back.
        for _ in 0..<20 {
            let permits = limiter.limit
            for _ in 0..<permits { try await limiter.acquire(.interactive) }
            for _ in 0..<permits { limiter.release(.completed(.milliseconds(1))) }
        }
        #expect(limiter.limit > shrunk, "limit \(limiter.limit) after \(shrunk)")
    }

    @Test("over the limit, calls queue (interactive first) and are shed after maxWait or when the queue is full")
    func queueAndShed() async throws {
        var configuration = Self.configuration(initial: 2)
        configuration.minLimit = 2
        let limiter = AdaptiveConcurrencyLimiter(configuration: configuration)
        try await limiter.acquire(.interactive)
        try await limiter.acquire(.interactive)
        let order = Order()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await limiter.acquire(.background)
                order.names.withLock { $0.append("background") }
                limiter.release(.ignored)
            }
            try await Self.waitUntil("one queued") { limiter.queued >= 1 }
            group.addTask {
                try await limiter.acquire(.interactive)
                order.names.withLock { $0.append("interactive") }
                limiter.release(.ignored)
            }
            try await Self.waitUntil("two queued") { limiter.queued >= 2 }
            limiter.release(.ignored)  // one slot frees: the interactive call goes first
            try await Self.waitUntil("the first granted") { order.names.withLock { $0.count } >= 1 }
            limiter.release(.ignored)
            try await group.waitForAll()
        }
        #expect(order.names.withLock { $0 } == ["interactive", "background"])
        // Both slots taken again; a waiter is shed after maxWait.
        try await limiter.acquire(.heavy)
        try await limiter.acquire(.heavy)
        let started = ContinuousClock.now
        await #expect(throws: AdaptiveConcurrencyLimiter.Shed.self) { try await limiter.acquire(.heavy) }
        #expect(ContinuousClock.now - started >= .milliseconds(90))
        // A full queue sheds at once (a limiter whose waiters wait long enough to fill it).
        var patient = configuration
        patient.maxWait = .seconds(60)
        let full = AdaptiveConcurrencyLimiter(configuration: patient)
        try await full.acquire(.heavy)
        try await full.acquire(.heavy)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<8 { group.addTask { try? await full.acquire(.heavy) } }
            try await Self.waitUntil("eight queued") { full.queued >= 8 }
            do {
                try await full.acquire(.heavy)
                Issue.record("expected a shed call")
            } catch let shed as AdaptiveConcurrencyLimiter.Shed {
                #expect(shed.reason == "queue_full" && shed.retryAfter >= 1)
            }
            group.cancelAll()
        }
        #expect(full.queued == 0, "cancelled waiters leave the queue")
    }
}
