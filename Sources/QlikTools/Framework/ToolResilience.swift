import Foundation
import JSONCore
import Logging
import QlikEngine
import Resilience
import ServiceContextModule
import Synchronization
import Telemetry
import Tracing

/// Breakers and retries around every tool call that reaches the engine (`ToolRegistry.resilience`):
/// one breaker per engine deployment (`engine:<url>`) and one per tool (`tool:<name>`) — a tenant
/// breaker slots in with the tenancy work — retries of idempotent reads on retryable errors with
/// full jitter, within a retry budget per engine. While a breaker is open, calls fail in
/// microseconds with `CIRCUIT_OPEN` (category `engine_unavailable`, `retry_after_s`), which the
/// cache answers from its stale entries where their class allows.
public final class ToolResilience: Sendable {
    public struct Settings: Sendable, Equatable {
        public var engine = CircuitBreaker.Configuration()
        /// Per tool: more calls before it judges, and an unreachable engine is the engine
        /// breaker's business (so recovery waits for one cool-down, not one per tool).
        public var tool: CircuitBreaker.Configuration = {
            var configuration = CircuitBreaker.Configuration()
            configuration.minimumCalls = 20
            configuration.countsUnreachable = false
            return configuration
        }()
        public var retry = RetryPolicy()
        public var budget = RetryBudget.Configuration()
        public init() {}
    }

    public let settings: Settings
    public let metrics = ResilienceMetrics()
    /// Where writes and reloads that failed are kept (nil: nowhere).
    public let deadLetters: (any DeadLetterStore)?
    private let breakers = Mutex<[String: CircuitBreaker]>([:])
    private let budgets = Mutex<[String: RetryBudget]>([:])
    private let logger = Logger(label: "qlik-mcp.resilience")
    /// Most breakers kept (tools are a fixed set, engines a handful; hybrid users share one engine breaker).
    static let maxBreakers = 1_000

    public init(settings: Settings = Settings(), deadLetters: (any DeadLetterStore)? = nil) {
        self.settings = settings
        self.deadLetters = deadLetters
    }

    /// Creates the retry series of these tools at zero (rates need a start), with their breakers.
    public func preregister(tools: [QlikTool]) {
        for tool in tools where tool.replacement == nil {
            metrics.retried(tool.name, outcome: "succeeded", count: 0)
            metrics.retried(tool.name, outcome: "failed", count: 0)
            _ = breaker("tool:" + tool.name, class: "tool", configuration: settings.tool)
            if !tool.readOnly, deadLetters != nil {
                metrics.prepareDeadLetters(tool.name, reasons: ToolError.Category.allCases.map(\.rawValue))
            }
        }
        metrics.deadLetterDepth(0)
    }

    /// The breaker `name` of `breakerClass`, created on first use.
    func breaker(_ name: String, class breakerClass: String, configuration: CircuitBreaker.Configuration) -> CircuitBreaker {
        if let existing = breakers.withLock({ $0[name] }) { return existing }
        let metrics = self.metrics
        let logger = self.logger
        let created = CircuitBreaker(name: name, breakerClass: breakerClass, configuration: configuration) { breaker, from, to in
            metrics.transition(breaker, from: from, to: to)
            let level: Logger.Level = to == .open ? .warning : .info
            logger.log(
                level: level, "circuit breaker \(to.rawValue)",
                metadata: ["qlik_mcp.breaker.name": .string(breaker.name), "qlik_mcp.breaker.from": .string(from.rawValue), "qlik_mcp.breaker.to": .string(to.rawValue)])
        }
        let (breaker, isNew) = breakers.withLock { breakers -> (CircuitBreaker, Bool) in
            if let raced = breakers[name] { return (raced, false) }
            if breakers.count >= Self.maxBreakers { return (created, false) }  // unregistered: still protects this call
            breakers[name] = created
            return (created, true)
        }
        if isNew { metrics.register(breaker) }
        return breaker
    }

    /// The engine breakers and their states.
    public var engineBreakers: [CircuitBreaker] { breakers.withLock { Array($0.values) }.filter { $0.breakerClass == "engine" } }

    /// One breaker as `/healthz` shows it.
    public struct BreakerStatus: Sendable {
        public let name: String
        public let breakerClass: String
        public let state: String
        public let since: Date
        public let calls: Int
        public let failures: Int
        public let slowCalls: Int
    }

    /// Every breaker's state and window counts, engine breakers first.
    public var statuses: [BreakerStatus] {
        breakers.withLock { Array($0.values) }
            .map { breaker in
                let snapshot = breaker.snapshot()
                return BreakerStatus(
                    name: breaker.name, breakerClass: breaker.breakerClass, state: snapshot.state.rawValue, since: snapshot.since,
                    calls: snapshot.calls, failures: snapshot.failures, slowCalls: snapshot.slow)
            }
            .sorted { ($0.breakerClass == "engine" ? 0 : 1, $0.name) < ($1.breakerClass == "engine" ? 0 : 1, $1.name) }
    }

    /// True while an engine breaker is open or half-open.
    public var engineDegraded: Bool { engineBreakers.contains { $0.state != .closed } }

    /// The retry budget of an engine deployment (shared by tool retries and the pool's reconnects).
    public func budget(_ engine: String) -> RetryBudget {
        budgets.withLock { budgets in
            if let existing = budgets[engine] { return existing }
            let created = RetryBudget(configuration: settings.budget)
            budgets[engine] = created
            return created
        }
    }

    /// Runs one tool call through the breakers of its engine and tool, retrying idempotent reads —
    /// and writes that run under an idempotency key (`keyed`).
    func run(
        _ tool: QlikTool, context: ToolContext, arguments: ToolArguments, keyed: Bool = false, _ body: @Sendable () async throws -> ToolOutput
    ) async throws -> ToolOutput {
        let engine = context.backend.endpoint.engineID
        let call = ResilientCall(
            breakers: [
                breaker("engine:" + engine, class: "engine", configuration: settings.engine),
                breaker("tool:" + (tool.replacement ?? tool.name), class: "tool", configuration: settings.tool),
            ],
            retry: settings.retry, budget: budget(engine), idempotent: (tool.readOnly && tool.idempotent) || keyed, deadline: context.deadline, metrics: metrics,
            operation: tool.replacement ?? tool.name)
        let attempts = Attempts()
        do {
            return try await call.run(classify: Self.verdict, events: Self.spanEvent) {
                attempts.count.add(1, ordering: .relaxed)
                return try await body()
            }
        } catch let rejection as CircuitBreaker.Rejection {
            let error = ToolError.circuitOpen(rejection)
            await keepDeadLetter(tool, context: context, arguments: arguments, error: error, attempts: attempts.count.load(ordering: .relaxed))
            throw error
        } catch {
            if Self.verdict(error) != .ignored {
                await keepDeadLetter(tool, context: context, arguments: arguments, error: error, attempts: attempts.count.load(ordering: .relaxed))
            }
            throw error
        }
    }

    /// How often a call's body ran.
    private final class Attempts: Sendable {
        let count = Atomic<Int>(0)
    }

    /// A failed write or reload is kept as a dead letter (reads are simply asked again).
    private func keepDeadLetter(_ tool: QlikTool, context: ToolContext, arguments: ToolArguments, error: any Error, attempts: Int) async {
        guard let deadLetters, !tool.readOnly else { return }
        let failure = ToolError.from(error)
        let letter = DeadLetter(
            operation: tool.replacement ?? tool.name, arguments: JSONCoding.serializeCanonical(.object(arguments.values)),
            principal: context.principalID, errorCode: failure.code, errorMessage: failure.message, attempts: attempts)
        do {
            try await deadLetters.append(letter)
            metrics.deadLettered(letter.operation, reason: failure.category.rawValue, depth: try await deadLetters.count())
            logger.warning(
                "operation kept as a dead letter",
                metadata: ["qlik_mcp.dlq.id": .string(letter.id), "gen_ai.tool.name": .string(letter.operation), "qlik_mcp.error.code": .string(failure.code)])
        } catch {
            logger.error("could not keep a failed operation as a dead letter", metadata: ["gen_ai.tool.name": .string(letter.operation), "error.type": .string(String(describing: type(of: error)))])
        }
    }

    /// The gate of `EngineGate`: CIRCUIT_OPEN while the engine's breaker is open and cooling down.
    var gate: EngineGate {
        EngineGate { [weak self] engineID in
            guard let breaker = self?.breakers.withLock({ $0["engine:" + engineID] }), let rejection = breaker.rejectsNow() else { return nil }
            self?.metrics.rejected(rejection)
            return ToolError.circuitOpen(rejection)
        }
    }

    /// How an error counts: the engine's own unavailability and timeouts are retryable failures;
    /// errors the taxonomy marks retryable too; the caller's mistakes and cancellations say nothing
    /// about the engine.
    static func verdict(_ error: any Error) -> ErrorVerdict {
        if error is ArgumentError || error is CancellationError { return .ignored }
        let failure = ToolError.from(error)
        switch failure.category {
        case .engineUnavailable: return .unreachable
        case .timeout: return failure.code == "CANCELLED" ? .ignored : .failure(retryable: true)
        case .engineError: return .failure(retryable: failure.retryable)
        case .invalidArgument, .notFound, .permissionDenied, .limitExceeded, .unsupported, .conflict, .rateLimited, .overloaded: return .ignored
        }
    }

    /// Retries and rejections as events on the call's span.
    static func spanEvent(_ event: ResilienceEvent) {
        guard let span = ServiceContext.current?.mcpServerSpan else { return }
        switch event {
        case .retry(let attempt, let delay, let error):
            span.addEvent(
                SpanEvent(
                    name: "retry",
                    attributes: ["qlik_mcp.retry.attempt": .int64(Int64(attempt)), "qlik_mcp.retry.delay_ms": .double(delay.seconds * 1000), "error.type": .string(error)]))
        case .rejected(let rejection):
            span.addEvent(SpanEvent(name: "circuit_breaker_rejected", attributes: ["qlik_mcp.breaker.name": .string(rejection.breaker)]))
        case .budgetExhausted:
            span.addEvent(SpanEvent(name: "retry_budget_exhausted"))
        }
    }
}

extension ToolError {
    /// A call rejected by an open breaker: retryable, with when to come back.
    static func circuitOpen(_ rejection: CircuitBreaker.Rejection) -> ToolError {
        let seconds = max(1, Int(rejection.retryAfter.seconds.rounded(.up)))
        return ToolError(
            code: "CIRCUIT_OPEN", category: .engineUnavailable,
            message: "the engine is failing: circuit breaker \(rejection.breaker) is \(rejection.state.rawValue) since \(rejection.since.formatted(.iso8601))",
            remediation: "retry in \(seconds) s", retryable: true, retryAfterSeconds: Double(seconds))
    }
}
