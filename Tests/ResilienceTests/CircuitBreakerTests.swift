import Foundation
import Synchronization
import Testing

@testable import Resilience

@Suite("Circuit breaker")
struct CircuitBreakerTests {
    static func configuration() -> CircuitBreaker.Configuration {
        var configuration = CircuitBreaker.Configuration()
        configuration.window = .seconds(10)
        configuration.minimumCalls = 4
        configuration.failureRateThreshold = 0.5
        configuration.slowCallDuration = .seconds(1)
        configuration.openFor = .seconds(5)
        configuration.halfOpenProbes = 2
        return configuration
    }

    @Test("closed → open at the failure rate once the minimum calls are seen; rejections say which breaker and when to come back")
    func opensOnFailureRate() throws {
        let transitions = Mutex<[String]>([])
        let breaker = CircuitBreaker(name: "engine:test", breakerClass: "engine", configuration: Self.configuration()) { _, from, to in
            transitions.withLock { $0.append("\(from.rawValue)>\(to.rawValue)") }
        }
        let t0 = ContinuousClock.now
        for index in 0..<3 {
            let permit = try breaker.acquire(now: t0)
            breaker.record(permit, .failure, now: t0 + .milliseconds(index))
        }
        #expect(breaker.state == .closed, "three calls are below the minimum of four")
        breaker.record(try breaker.acquire(now: t0), .success, now: t0)
        #expect(breaker.state == .open, "3 failures of 4 calls ≥ 50 %")
        #expect(transitions.withLock { $0 } == ["closed>open"])
        #expect {
            try breaker.acquire(now: t0 + .seconds(1))
        } throws: { error in
            guard let rejection = error as? CircuitBreaker.Rejection else { return false }
            return rejection.breaker == "engine:test" && rejection.state == .open && rejection.retryAfter == .seconds(4)
        }
    }

    @Test("open → half-open after the cool-down; the probes close it, one failed probe opens it again")
    func halfOpenProbes() throws {
        let breaker = CircuitBreaker(name: "b", breakerClass: "engine", configuration: Self.configuration())
        let t0 = ContinuousClock.now
        for _ in 0..<4 { breaker.record(try breaker.acquire(now: t0), .failure, now: t0) }
        #expect(breaker.state == .open)
        let later = t0 + .seconds(5)
        let probe1 = try breaker.acquire(now: later)
        #expect(breaker.state == .halfOpen)
        let probe2 = try breaker.acquire(now: later)
        #expect(throws: CircuitBreaker.Rejection.self) { try breaker.acquire(now: later) }  // only two probes
        breaker.record(probe1, .success, now: later)
        breaker.record(probe2, .failure, now: later)
        #expect(breaker.state == .open)
        let again = t0 + .seconds(10)
        breaker.record(try breaker.acquire(now: again), .success, now: again)
        breaker.record(try breaker.acquire(now: again), .success, now: again)
        #expect(breaker.state == .closed)
        #expect(breaker.snapshot(now: again).calls == 0, "closing forgets the failures that opened it")
    }

    @Test("slow calls open it too; ignored outcomes count for nothing; old buckets leave the window")
    func slowIgnoredAndWindow() throws {
        var configuration = Self.configuration()
        configuration.slowCallRateThreshold = 0.75
        let breaker = CircuitBreaker(name: "slow", breakerClass: "engine", configuration: configuration)
        let t0 = ContinuousClock.now
        for _ in 0..<10 { breaker.record(try breaker.acquire(now: t0), .ignored, now: t0) }
        #expect(breaker.snapshot(now: t0).calls == 0)
        for _ in 0..<3 { breaker.record(try breaker.acquire(now: t0), .failure, now: t0) }
        let t1 = t0 + .seconds(11)  // the failures are out of the window now
        breaker.record(try breaker.acquire(now: t1), .failure, now: t1)
        #expect(breaker.state == .closed)
        for _ in 0..<3 {
            let permit = try breaker.acquire(now: t1)
            breaker.record(permit, .success, now: t1 + .seconds(2))  // slow
        }
        #expect(breaker.state == .open, "3 slow of 4 calls ≥ 75 %")
    }
}

@Suite("Retries")
struct RetryTests {
    struct Transient: Error {}
    struct Fatal: Error {}

    @Test("full jitter stays under the exponential cap")
    func jitter() {
        let policy = RetryPolicy(maxAttempts: 5, baseDelay: .milliseconds(100), maxDelay: .milliseconds(350))
        for retry in 1...6 {
            for _ in 0..<200 {
                let delay = policy.delay(beforeRetry: retry)
                #expect(delay >= .zero && delay <= min(.milliseconds(350), .milliseconds(100) * (1 << (retry - 1))))
            }
        }
    }

    @Test("an unreachable dependency opens the breakers that count it and leaves the others (per-operation breakers) closed")
    func unreachableCountsWhereConfigured() async throws {
        var configuration = CircuitBreaker.Configuration()
        configuration.minimumCalls = 4
        let dependency = CircuitBreaker(name: "engine:e", breakerClass: "engine", configuration: configuration)
        configuration.countsUnreachable = false
        let operation = CircuitBreaker(name: "tool:t", breakerClass: "tool", configuration: configuration)
        for _ in 0..<6 {
            _ = try? await ResilientCall(breakers: [operation, dependency], retry: RetryPolicy(maxAttempts: 1), idempotent: true, operation: "t").run(
                classify: { _ in .unreachable }
            ) { () async throws -> Int in throw Transient() }
        }
        #expect(dependency.state == .open)
        #expect(operation.state == .closed)
    }

    @Test("the budget allows the floor plus a share of the calls, then refuses")
    func budget() {
        let budget = RetryBudget(configuration: .init(ratio: 0.1, minimumPerSecond: 0.5, window: .seconds(10)))
        let now = ContinuousClock.now
        for _ in 0..<100 { budget.recordCall(now: now) }
        var granted = 0
        while budget.tryRetry(now: now) { granted += 1 }
        #expect(granted == 15)  // 0.5 × 10 s + 0.1 × 100 calls
    }

    @Test("retryable failures of idempotent calls are retried; other errors, writes and exhausted budgets are not")
    func retriesOnlyWhatMayHelp() async throws {
        let attempts = Mutex(0)
        let policy = RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(1), maxDelay: .milliseconds(2))
        let classify: (any Error) -> ErrorVerdict = { $0 is Transient ? .failure(retryable: true) : .failure(retryable: false) }
        let value = try await ResilientCall(breakers: [], retry: policy, idempotent: true, operation: "read").run(classify: classify) {
            let attempt = attempts.withLock { count -> Int in
                count += 1
                return count
            }
            if attempt < 3 { throw Transient() }
            return attempt
        }
        #expect(value == 3)
        for (idempotent, error) in [(false, Transient() as any Error), (true, Fatal() as any Error)] {
            attempts.withLock { $0 = 0 }
            await #expect(throws: (any Error).self) {
                try await ResilientCall(breakers: [], retry: policy, idempotent: idempotent, operation: "x").run(classify: classify) { () async throws -> Int in
                    attempts.withLock { $0 += 1 }
                    throw error
                }
            }
            #expect(attempts.withLock { $0 } == 1)
        }
        let empty = RetryBudget(configuration: .init(ratio: 0, minimumPerSecond: 0, window: .seconds(1)))
        attempts.withLock { $0 = 0 }
        let events = Mutex<[String]>([])
        await #expect(throws: Transient.self) {
            try await ResilientCall(breakers: [], retry: policy, budget: empty, idempotent: true, operation: "x").run(
                classify: classify, events: { event in if case .budgetExhausted = event { events.withLock { $0.append("exhausted") } } }
            ) { () async throws -> Int in
                attempts.withLock { $0 += 1 }
                throw Transient()
            }
        }
        #expect(attempts.withLock { $0 } == 1 && events.withLock { $0 } == ["exhausted"])
    }

    @Test("no retry starts after the deadline")
    func deadline() async throws {
        let attempts = Mutex(0)
        let policy = RetryPolicy(maxAttempts: 10, baseDelay: .milliseconds(400), maxDelay: .milliseconds(400))
        let start = ContinuousClock.now
        await #expect(throws: RetryTests.Transient.self) {
            try await ResilientCall(breakers: [], retry: policy, idempotent: true, deadline: start + .milliseconds(1), operation: "x").run(
                classify: { _ in .failure(retryable: true) }
            ) { () async throws -> Int in
                attempts.withLock { $0 += 1 }
                throw Transient()
            }
        }
        #expect(attempts.withLock { $0 } == 1)
    }

    @Test("an open breaker rejects before the call runs")
    func breakerRejects() async throws {
        var configuration = CircuitBreaker.Configuration()
        configuration.minimumCalls = 1
        let breaker = CircuitBreaker(name: "engine:x", breakerClass: "engine", configuration: configuration)
        breaker.record(try breaker.acquire(), .failure)
        let ran = Mutex(false)
        await #expect(throws: CircuitBreaker.Rejection.self) {
            try await ResilientCall(breakers: [breaker], idempotent: true, operation: "x").run(classify: { _ in .failure(retryable: true) }) { () async throws -> Int in
                ran.withLock { $0 = true }
                return 1
            }
        }
        #expect(!ran.withLock { $0 })
    }
}
