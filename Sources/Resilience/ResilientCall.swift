/// How an error counts: for the breakers, and whether a retry may help.
public enum ErrorVerdict: Sendable, Equatable {
    /// The dependency failed; `retryable` when trying again may succeed (timeouts, dropped
    /// connections, a busy engine).
    case failure(retryable: Bool)
    /// The dependency could not be reached at all (refused, unavailable); retryable. Counts for
    /// breakers whose configuration `countsUnreachable`.
    case unreachable
    /// The caller's mistake or a cancellation: says nothing about the dependency.
    case ignored
}

/// What happened on the way, for spans and logs (the caller turns these into span events).
public enum ResilienceEvent: Sendable {
    case retry(attempt: Int, delay: Duration, error: String)
    case rejected(CircuitBreaker.Rejection)
    case budgetExhausted
}

/// One call through breakers, retries (idempotent calls only, retryable errors only, within the
/// retry budget and before the deadline) and back.
public struct ResilientCall: Sendable {
    public let breakers: [CircuitBreaker]
    public let retry: RetryPolicy
    public let budget: RetryBudget?
    /// Reads may be retried; writes and reloads only with an idempotency key (the caller decides).
    public let idempotent: Bool
    public let deadline: ContinuousClock.Instant?
    public let metrics: ResilienceMetrics?
    /// The operation's name in `qlik_mcp_retries_total{operation}` (a bounded set: tool or method names).
    public let operation: String

    public init(
        breakers: [CircuitBreaker], retry: RetryPolicy = RetryPolicy(), budget: RetryBudget? = nil, idempotent: Bool,
        deadline: ContinuousClock.Instant? = nil, metrics: ResilienceMetrics? = nil, operation: String
    ) {
        self.breakers = breakers
        self.retry = retry
        self.budget = budget
        self.idempotent = idempotent
        self.deadline = deadline
        self.metrics = metrics
        self.operation = operation
    }

    public func run<T: Sendable>(
        classify: (any Error) -> ErrorVerdict, events: (ResilienceEvent) -> Void = { _ in },
        _ body: () async throws -> T
    ) async throws -> T {
        budget?.recordCall()
        var attempt = 1
        while true {
            var permits: [(CircuitBreaker, CircuitBreaker.Permit)] = []
            do {
                for breaker in breakers { permits.append((breaker, try breaker.acquire())) }
            } catch {
                for (breaker, permit) in permits { breaker.record(permit, .ignored) }
                events(.rejected(error))
                metrics?.rejected(error)
                throw error
            }
            do {
                let value = try await body()
                for (breaker, permit) in permits { breaker.record(permit, .success) }
                if attempt > 1 { metrics?.retried(operation, outcome: "succeeded") }
                return value
            } catch {
                let verdict = classify(error)
                for (breaker, permit) in permits {
                    switch verdict {
                    case .ignored: breaker.record(permit, .ignored)
                    case .failure: breaker.record(permit, .failure)
                    case .unreachable: breaker.record(permit, breaker.configuration.countsUnreachable ? .failure : .ignored)
                    }
                }
                if attempt > 1 { metrics?.retried(operation, outcome: "failed") }
                guard verdict == .failure(retryable: true) || verdict == .unreachable, idempotent, attempt < retry.maxAttempts, !Task.isCancelled else { throw error }
                let delay = retry.delay(beforeRetry: attempt)
                if let deadline, ContinuousClock.now + delay >= deadline { throw error }
                guard budget?.tryRetry() ?? true else {
                    events(.budgetExhausted)
                    metrics?.budgetExhausted()
                    throw error
                }
                events(.retry(attempt: attempt, delay: delay, error: String(describing: type(of: error))))
                try await Task.sleep(for: delay)
                attempt += 1
            }
        }
    }
}
