import Foundation
import Synchronization
import Testing

@testable import RateLimiting

@Suite("Adaptive concurrency limit (AIMD)")
struct AdaptiveConcurrencyLimiterTests {
    final class Order: Sendable {
        let names = Mutex<[String]>([])
    }

    static func configuration(initial: Double = 16) -> AdaptiveConcurrencyLimiter.Configuration {
        var configuration = AdaptiveConcurrencyLimiter.Configuration()
        configuration.initialLimit = initial
        configuration.maxWait = .milliseconds(100)
        configuration.maxQueue = 8
        return configuration
    }

    @Test("latency far above the baseline shrinks the limit; back to normal, it grows again")
    func followsLatency() async throws {
        let limiter = AdaptiveConcurrencyLimiter(configuration: Self.configuration())
        func complete(_ latency: Duration, times: Int) async throws {
            for _ in 0..<times {
                try await limiter.acquire(.interactive)
                // Keep the limit in use so that it may grow.
                limiter.release(.completed(latency))
            }
        }
        try await complete(.milliseconds(1), times: 50)
        let before = limiter.limit
        // Slow: every release is congestion, decreases spaced by the recent latency (≥ 10 ms).
        let slowUntil = ContinuousClock.now + .milliseconds(400)
        while ContinuousClock.now < slowUntil { try await complete(.milliseconds(200), times: 1) }
        #expect(limiter.limit < before, "limit \(limiter.limit) was \(before)")
        #expect(limiter.limit >= 2)
        // Overload signals (timeouts) shrink it as well.
        let shrunk = limiter.limit
        try await Task.sleep(for: .milliseconds(250))  // the decreases are spaced by the recent latency (200 ms)
        try await limiter.acquire(.interactive)
        limiter.release(.overloaded)
        #expect(limiter.limit < shrunk)
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
            while limiter.queued < 1 { await Task.yield() }
            group.addTask {
                try await limiter.acquire(.interactive)
                order.names.withLock { $0.append("interactive") }
                limiter.release(.ignored)
            }
            while limiter.queued < 2 { await Task.yield() }
            limiter.release(.ignored)  // one slot frees: the interactive call goes first
            while order.names.withLock({ $0.count }) < 1 { await Task.yield() }
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
        // A full queue sheds at once.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<8 { group.addTask { try? await limiter.acquire(.heavy) } }
            while limiter.queued < 8 { await Task.yield() }
            do {
                try await limiter.acquire(.heavy)
                Issue.record("expected a shed call")
            } catch let shed as AdaptiveConcurrencyLimiter.Shed {
                #expect(shed.reason == "queue_full" && shed.retryAfter >= 1)
            }
            group.cancelAll()
        }
    }
}
