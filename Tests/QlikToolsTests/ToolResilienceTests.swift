import DemoEngine
import DemoWiring
import Foundation
import JSONCore
import Logging
import MCP
import QlikEngine
import Resilience
import Synchronization
import Testing

@testable import QlikTools

/// Breakers, retries, budgets and deadlines around tool calls, against a demo engine with
/// injected faults (its own per test, so request counts are the test's own).
@Suite("Tool resilience against a faulty engine", .serialized)
struct ToolResilienceTests {
    static let catalog = DemoAppCatalog.standard(orderLines: 2_000)

    struct Engine: Sendable {
        let server: DemoEngineServer
        let faults: FaultController
        let backend: QlikBackend

        func requests(_ method: String) -> Int { server.requests.snapshot[method] ?? 0 }
    }

    static func withEngine(requestTimeout: Duration = .seconds(30), _ body: @Sendable (Engine) async throws -> Void) async throws {
        let faults = FaultController()
        let demo = DemoBackend(catalog: catalog, faults: faults, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await demo.server.run() }
            defer { group.cancelAll() }
            var configuration = QIXConnectionPool.Configuration()
            configuration.connection.requestTimeout = requestTimeout
            configuration.connection.connectTimeout = min(configuration.connection.connectTimeout, max(requestTimeout, .milliseconds(300)))
            let backend = await demo.backend(pool: QIXConnectionPool(configuration: configuration))
            try await body(Engine(server: demo.server, faults: faults, backend: backend))
            await backend.pool.closeIdle()
        }
    }

    static func registry(_ settings: ToolResilience.Settings) throws -> ToolRegistry {
        var registry = try ToolRegistry()
        registry.resilience = ToolResilience(settings: settings)
        return registry
    }

    static func call(
        _ registry: ToolRegistry, _ engine: Engine, _ name: String, _ arguments: JSONValue, session: String = "s", deadline: ContinuousClock.Instant? = nil
    ) async throws -> (error: JSONValue?, elapsed: Duration) {
        let start = ContinuousClock.now
        let result = try await registry.call(name, arguments: arguments, context: ToolContext(backend: engine.backend, sessionID: session, directives: CallDirectives(deadline: deadline)))
        let structured = result.structuredContent.map(ValueBridge.json)
        return (result.isError == true ? structured?["error"] : nil, ContinuousClock.now - start)
    }

    static let sales: JSONValue = ["app_id": "sales-analytics"]

    @Test("a hung engine: once the breaker has seen the slow calls, calls fail at once (CIRCUIT_OPEN, retryable, retry_after_s); it heals by itself")
    func hungEngine() async throws {
        try await Self.withEngine(requestTimeout: .seconds(1)) { engine in
            var settings = ToolResilience.Settings()
            settings.engine.minimumCalls = 8
            settings.engine.slowCallDuration = .milliseconds(900)
            settings.engine.openFor = .seconds(8)  // far longer than the first wave takes, even on a loaded machine
            settings.engine.halfOpenProbes = 1
            settings.retry.maxAttempts = 1
            let registry = try Self.registry(settings)
            _ = try await Self.call(registry, engine, "list_measures", Self.sales)  // connections open
            engine.faults.update { $0.hang = true }
            let first = try await withThrowingTaskGroup(of: (JSONValue?, Duration).self) { group in
                for index in 0..<16 { group.addTask { try await Self.call(registry, engine, "list_measures", Self.sales, session: "w\(index % 4)") } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(first.allSatisfy { $0.0 != nil }, "a hung engine answers nothing")
            let second = try await withThrowingTaskGroup(of: (JSONValue?, Duration).self) { group in
                for index in 0..<16 { group.addTask { try await Self.call(registry, engine, "list_measures", Self.sales, session: "w\(index % 4)") } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(second.allSatisfy { $0.0?["code"] == "CIRCUIT_OPEN" && $0.0?["retryable"] == true && $0.0?["retry_after_s"] != nil }, "\(second.map(\.0))")
            #expect(second.allSatisfy { $0.1 < .milliseconds(300) }, "rejected calls must not wait for the 1 s timeout: \(second.map(\.1))")
            engine.faults.update { $0.hang = false }
            let deadline = ContinuousClock.now + .seconds(40)
            var healed = false
            while ContinuousClock.now < deadline, !healed {
                healed = try await Self.call(registry, engine, "list_measures", Self.sales).error == nil
                if !healed { try await Task.sleep(for: .milliseconds(50)) }  // polling the breaker's recovery, bounded
            }
            #expect(healed)
            #expect(registry.resilience?.engineBreakers.first?.state == .closed)
        }
    }

    @Test("5 % transient errors on reads: retries make ≥ 98 % of the calls succeed")
    func transientErrors() async throws {
        try await Self.withEngine { engine in
            let registry = try Self.registry(ToolResilience.Settings())
            _ = try await Self.call(registry, engine, "list_measures", Self.sales)
            engine.faults.update {
                $0.errorRate = 0.05
                $0.errorMethods = ["GetLayout"]
            }
            var failed = 0
            for _ in 0..<200 where try await Self.call(registry, engine, "list_measures", Self.sales).error != nil { failed += 1 }
            let injected = engine.requests("GetLayout")
            #expect(failed <= 4, "\(failed) of 200 failed")
            #expect(injected > 200, "the retries reached the engine")
        }
    }

    @Test("100 % errors: the retry budget and the breaker cap the extra load on the engine")
    func budgetCapsLoad() async throws {
        try await Self.withEngine { engine in
            var settings = ToolResilience.Settings()
            settings.engine.minimumCalls = 1_000  // only the budget limits here
            settings.tool.minimumCalls = 1_000
            settings.retry.baseDelay = .milliseconds(1)
            settings.retry.maxDelay = .milliseconds(2)
            let registry = try Self.registry(settings)
            engine.faults.update {
                $0.errorRate = 1
                $0.errorMethods = ["EvaluateEx"]
            }
            for _ in 0..<100 { _ = try await Self.call(registry, engine, "evaluate_expression", ["app_id": "sales-analytics", "expression": "Sum(Sales)"]) }
            let made = engine.requests("EvaluateEx")
            // 100 calls, retries ≤ 1/s × 10 s + 20 % of 100 calls = 30.
            #expect(made >= 100 && made <= 130, "\(made) engine calls for 100 tool calls")
        }
    }

    @Test("a reload that fails is kept as a dead letter, survives a restart and runs again once the engine is healthy")
    func deadLetters() async throws {
        let directory = NSTemporaryDirectory() + "qlik-mcp-dlq-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await Self.withEngine { engine in
            let resilience = ToolResilience(deadLetters: try FileDeadLetterStore(directory: directory))
            var registry = try ToolRegistry(toolsets: StandardToolsets.all + [Toolset(name: "admin", description: "", tools: DeadLetterTools.tools(resilience))])
            registry.resilience = resilience
            engine.faults.update {
                $0.errorRate = 1
                $0.errorMethods = ["DoReloadEx"]
            }
            #expect(try await Self.call(registry, engine, "reload_app", Self.sales).error != nil)
            #expect(try await Self.call(registry, engine, "list_measures", Self.sales).error == nil)
            // "Restart": a new store reads the same directory.
            let restarted = try FileDeadLetterStore(directory: directory)
            let letters = try await restarted.list(limit: 10)
            #expect(letters.count == 1)
            let letter = try #require(letters.first)
            #expect(letter.operation == "reload_app" && letter.arguments.contains("sales-analytics") && !letter.errorCode.isEmpty)
            let stillBroken = try await Self.call(registry, engine, "retry_dead_letter", ["id": .string(letter.id)])
            #expect(stillBroken.error == nil)
            #expect(try await resilience.deadLetters?.get(letter.id)?.retries == 1)
            engine.faults.update { $0.errorRate = 0 }
            let retried = try await registry.call("retry_dead_letter", arguments: ["id": .string(letter.id)], context: ToolContext(backend: engine.backend, sessionID: "s"))
            #expect(Self.result(retried)["succeeded"] == true)
            #expect(try await resilience.deadLetters?.count() == 0)
            #expect(try await FileDeadLetterStore(directory: directory).count() == 0)
        }
    }

    static func result(_ call: CallTool.Result) -> JSONValue { call.structuredContent.map(ValueBridge.json) ?? .null }

    @Test("a write is never retried")
    func writesAreNotRetried() async throws {
        try await Self.withEngine { engine in
            let registry = try Self.registry(ToolResilience.Settings())
            engine.faults.update {
                $0.errorRate = 1
                $0.errorMethods = ["DoReloadEx"]
            }
            let answer = try await Self.call(registry, engine, "reload_app", Self.sales)
            #expect(answer.error != nil)
            #expect(engine.requests("DoReloadEx") == 1)
        }
    }

    @Test("a reload with an idempotency key is retried, runs once per key (a repeat is replayed) and refuses the key with other arguments")
    func idempotencyKeys() async throws {
        try await Self.withEngine { engine in
            var registry = try Self.registry(ToolResilience.Settings())
            registry.idempotency = Idempotency(store: MemoryIdempotencyStore())
            func reload(_ app: String, key: String?) async throws -> CallTool.Result {
                try await registry.call(
                    "reload_app", arguments: ["app_id": .string(app)],
                    context: ToolContext(backend: engine.backend, sessionID: "s", directives: CallDirectives(idempotencyKey: key)))
            }
            engine.faults.update {
                $0.errorMethods = ["DoReloadEx"]
                $0.failNext = 1
            }
            let first = try await reload("sales-analytics", key: "nightly-2026-12-02")
            #expect(first.isError == false, "\(Self.result(first))")
            #expect(engine.requests("DoReloadEx") == 2, "the transient failure was retried")
            #expect(first._meta?["idempotentReplay"] == nil)
            let repeated = try await reload("sales-analytics", key: "nightly-2026-12-02")
            #expect(repeated.isError == false)
            #expect(repeated._meta?["idempotentReplay"] == .bool(true))
            #expect(Self.result(repeated) == Self.result(first))
            #expect(engine.requests("DoReloadEx") == 2, "a repeat with the key does not reload again")
            let reused = try await reload("hr-insights", key: "nightly-2026-12-02")
            #expect(Self.result(reused)["error"]?["code"] == "IDEMPOTENCY_KEY_REUSED")
            #expect(engine.requests("DoReloadEx") == 2)
            // Without a key the same transient failure is not retried (a write might run twice).
            engine.faults.update { $0.failNext = 1 }
            let unkeyed = try await reload("sales-analytics", key: nil)
            #expect(unkeyed.isError == true)
            #expect(engine.requests("DoReloadEx") == 3)
        }
    }

    @Test("the pool connects again after a refused connection (with the retry policy and budget), for a write too")
    func reconnects() async throws {
        try await Self.withEngine { engine in
            let resilience = ToolResilience()
            var registry = try ToolRegistry()
            registry.resilience = resilience
            engine.faults.update { $0.refuseNextConnections = 2 }
            // Without a reconnect policy the refused connection fails the call.
            let refused = try await Self.call(registry, engine, "reload_app", Self.sales)
            #expect(refused.error?["category"] == "engine_unavailable")
            await engine.backend.pool.useReconnect(.init(policy: RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(5)), budget: { resilience.budget($0) }))
            // One refusal left: the pool connects again and the write runs once.
            let before = engine.requests("DoReloadEx")
            let reload = try await Self.call(registry, engine, "reload_app", Self.sales)
            #expect(reload.error == nil, "\(String(describing: reload.error))")
            #expect(engine.faults.current.refuseNextConnections == 0)
            #expect(engine.requests("DoReloadEx") - before == 1)
        }
    }

    @Test("a 100 ms deadline against a 400 ms engine answers in about 100 ms, with no retry after it")
    func deadline() async throws {
        try await Self.withEngine { engine in
            let registry = try Self.registry(ToolResilience.Settings())
            _ = try await Self.call(registry, engine, "list_measures", Self.sales)
            engine.faults.update { $0.latency = .milliseconds(400) }
            let before = engine.requests("CreateSessionObject")
            let answer = try await Self.call(registry, engine, "list_measures", Self.sales, deadline: .now + .milliseconds(100))
            #expect(answer.error?["category"] == "timeout")
            #expect(answer.elapsed < .milliseconds(350), "\(answer.elapsed)")
            // The engine counts a request when it answers it (400 ms after it arrived).
            let settle = ContinuousClock.now + .seconds(5)
            while engine.requests("CreateSessionObject") == before, ContinuousClock.now < settle { try await Task.sleep(for: .milliseconds(20)) }
            try await Task.sleep(for: .milliseconds(500))  // a retry, had one been sent at ~100 ms, would be answered by now
            #expect(engine.requests("CreateSessionObject") - before == 1, "no retry after the deadline")
        }
    }
}
