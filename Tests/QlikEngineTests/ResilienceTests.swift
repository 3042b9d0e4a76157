import DemoEngine
import Foundation
import JSONCore
import QlikEngine
import Telemetry
import Testing

@Suite("Timeouts, cancellation, faults and the pool", .serialized)
struct ResilienceTests {
    @Test("a slow engine: the request timeout is honoured and the connection stays usable")
    func timeout() async throws {
        let engine = FaultyEngine()
        try await engine.run { endpoint in
            let connection = try await QIXConnection.connect(to: endpoint, appID: nil)
            defer { connection.close() }
            engine.faults.update { $0.latency = .seconds(10) }
            let start = ContinuousClock.now
            await #expect { try await connection.call(handle: -1, method: "EngineVersion", timeout: .milliseconds(100)) } throws: { error in
                (error as? QIXClientError) == .timeout(method: "EngineVersion", after: .milliseconds(100))
            }
            // Well before the engine's answer (10 s), even on a loaded machine whose cooperative pool
            // is busy with other suites (the caller resumes only when a pool thread is free).
            #expect(ContinuousClock.now - start < .seconds(5))
            engine.faults.update { $0.latency = .zero }
            // The late answer to the timed-out request is ignored; the next call gets its own answer.
            #expect(try await Global(connection: connection).engineVersion() == "12.2027.0")
        }
    }

    @Test("cancelling the caller's task cancels the request")
    func cancellation() async throws {
        let engine = FaultyEngine()
        try await engine.run { endpoint in
            let connection = try await QIXConnection.connect(to: endpoint, appID: nil)
            defer { connection.close() }
            engine.faults.update { $0.latency = .seconds(5) }
            let task = Task { try await connection.call(handle: -1, method: "EngineVersion") }
            task.cancel()
            await #expect { try await task.value } throws: { error in
                (error as? QIXClientError) == .cancelled(method: "EngineVersion")
            }
        }
    }

    @Test("injected errors arrive as typed engine errors for the chosen methods only")
    func injectedErrors() async throws {
        let engine = FaultyEngine()
        try await engine.run { endpoint in
            let connection = try await QIXConnection.connect(to: endpoint, appID: nil)
            defer { connection.close() }
            engine.faults.update {
                $0.errorRate = 1; $0.errorMethods = ["GetDocList"]
            }
            await #expect { try await Global(connection: connection).docList() } throws: { ($0 as? QIXError)?.name == "LOCERR_GENERIC_INTERNAL_ERROR" }
            #expect(try await Global(connection: connection).engineVersion() == "12.2027.0")
        }
    }

    @Test("a dropped connection fails waiting requests with connectionClosed")
    func dropped() async throws {
        let engine = FaultyEngine()
        try await engine.run { endpoint in
            engine.faults.update { $0.dropAfterMessages = 2 }
            let connection = try await QIXConnection.connect(to: endpoint, appID: nil)
            #expect(try await Global(connection: connection).engineVersion() == "12.2027.0")
            await #expect { try await Global(connection: connection).engineVersion() } throws: { error in
                if case .connectionClosed = error as? QIXClientError { return true }
                return false
            }
            #expect(!connection.isOpen)
            await #expect { try await Global(connection: connection).engineVersion() } throws: { error in
                if case .connectionClosed = error as? QIXClientError { return true }
                return false
            }
        }
    }

    @Test("refused and unreachable engines give clear connection errors")
    func refused() async throws {
        let engine = FaultyEngine()
        try await engine.run { endpoint in
            engine.faults.update { $0.refuseConnections = true }
            await #expect { try await QIXConnection.connect(to: endpoint, appID: nil) } throws: { error in
                guard case .connectionFailed(_, let reason) = error as? QIXClientError else { return false }
                return reason.contains("refused the WebSocket upgrade")
            }
        }
        await #expect { try await QIXConnection.connect(to: .desktop(host: "127.0.0.1", port: 1), appID: nil) } throws: { error in
            guard case .connectionFailed(let url, _) = error as? QIXClientError else { return false }
            return url == "ws://127.0.0.1:1/app/"
        }
    }

    @Test("pool: reuse, limit with bounded wait, engine busy, recycling after a drop")
    func pool() async throws {
        let engine = FaultyEngine()
        try await engine.run { endpoint in
            var configuration = QIXConnectionPool.Configuration()
            configuration.maxConnectionsPerEngine = 2
            configuration.waitTimeout = .milliseconds(300)
            configuration.maxWaiters = 1
            let pool = QIXConnectionPool(configuration: configuration)
            // Reuse: two sequential leases get the same connection.
            let first = try await pool.withSession(endpoint, appID: "sales-analytics") { lease in lease.connection.createdAt }
            let second = try await pool.withSession(endpoint, appID: "sales-analytics") { lease in lease.connection.createdAt }
            #expect(first == second)
            #expect(await pool.connectionCount(engine: endpoint.engineID) == 1)

            // Two long leases fill the engine; a third caller waits, then gets "engine busy".
            let (gate, open) = AsyncStream<Void>.makeStream()
            let (started, signal) = AsyncStream<Void>.makeStream()
            let holders = (0..<2).map { _ in
                Task {
                    try await pool.withSession(endpoint, appID: "sales-analytics") { _ in
                        signal.yield()
                        for await _ in gate { break }
                    }
                }
            }
            var startedIterator = started.makeAsyncIterator()
            _ = await startedIterator.next()
            _ = await startedIterator.next()
            let start = ContinuousClock.now
            await #expect { try await pool.withSession(endpoint, appID: "sales-analytics") { _ in 1 } } throws: { error in
                if case .engineBusy(_, let waited, let limit) = error as? QIXClientError { return waited == .milliseconds(300) && limit == 2 }
                return false
            }
            #expect(ContinuousClock.now - start >= .milliseconds(250))
            // A waiter is served as soon as a lease ends.
            let waiting = Task { try await pool.withSession(endpoint, appID: "sales-analytics") { lease in try await lease.doc!.evaluate("Count(DISTINCT Region)") } }
            while await pool.waiterCount == 0 { await Task.yield() }
            // The queue is bounded: one more caller is refused at once.
            await #expect { try await pool.withSession(endpoint, appID: "sales-analytics") { _ in 1 } } throws: { error in
                if case .engineBusy(_, let waited, _) = error as? QIXClientError { return waited == .zero }
                return false
            }
            open.yield()
            #expect(try await waiting.value == "4")
            open.finish()
            for holder in holders { try await holder.value }

            // A session dropped by the engine is not handed out again.
            engine.faults.update { $0.dropAfterMessages = 1 }
            await #expect { try await pool.withSession(endpoint, appID: "sales-analytics") { lease in try await lease.global.engineVersion() } } throws: { _ in true }
            engine.faults.update { $0.dropAfterMessages = nil }
            let version = try await pool.withSession(endpoint, appID: "sales-analytics") { lease in try await lease.global.engineVersion() }
            #expect(version == "12.2027.0")
            #expect(await pool.connectionCount(engine: endpoint.engineID) <= 2)
            await pool.closeIdle()
        }
    }

    @Test("pool: an idle session that fails its health check is replaced, and the failure is counted")
    func healthCheck() async throws {
        let engine = FaultyEngine()
        try await engine.run { endpoint in
            let metrics = TelemetryMetrics()
            var configuration = QIXConnectionPool.Configuration()
            configuration.healthCheckAfterIdle = .zero
            let pool = QIXConnectionPool(configuration: configuration, instrumentation: QIXInstrumentation(factory: metrics.factory))
            let first = try await pool.withSession(endpoint, appID: nil) { lease in lease.connection.createdAt }
            // The engine now fails EngineVersion: the health check of the idle session fails.
            engine.faults.update {
                $0.errorRate = 1; $0.errorMethods = ["EngineVersion"]
            }
            let second = try await pool.withSession(endpoint, appID: nil) { lease in lease.connection.createdAt }
            #expect(first != second)
            #expect(metrics.render().contains(#"qix_connection_errors_total{reason="health_check"} 1"#))
            #expect(await pool.connectionCount(engine: endpoint.engineID) == 1)
            await pool.closeIdle()
            #expect(await pool.connectionCount(engine: endpoint.engineID) == 0)
        }
    }

    @Test("pool: a new kind of session evicts the least recently used idle one instead of waiting")
    func eviction() async throws {
        let engine = FaultyEngine()
        try await engine.run { endpoint in
            var configuration = QIXConnectionPool.Configuration()
            configuration.maxConnectionsPerEngine = 2
            configuration.waitTimeout = .milliseconds(200)
            let pool = QIXConnectionPool(configuration: configuration)
            let a = try await pool.withSession(endpoint, appID: nil, tag: "a") { lease in lease.connection.createdAt }
            _ = try await pool.withSession(endpoint, appID: nil, tag: "b") { lease in lease.connection.createdAt }
            // "c" needs a third connection: "a" (idle longest) is closed to make room.
            _ = try await pool.withSession(endpoint, appID: nil, tag: "c") { lease in lease.connection.createdAt }
            #expect(await pool.connectionCount(engine: endpoint.engineID) == 2)
            let b = try await pool.withSession(endpoint, appID: nil, tag: "b") { lease in lease.connection.createdAt }
            let aAgain = try await pool.withSession(endpoint, appID: nil, tag: "a") { lease in lease.connection.createdAt }
            #expect(aAgain != a, "a was evicted and reopened")
            #expect(b != a)
            await pool.closeIdle()
        }
    }

    @Test("many concurrent requests on one connection are correlated correctly")
    func concurrency() async throws {
        let (connection, doc) = try await DemoEngineFixture.openSales()
        defer { connection.close() }
        let regions = ["Americas", "Europe", "Asia Pacific", "Middle East & Africa"]
        let results = try await withThrowingTaskGroup(of: (String, String).self) { group in
            for index in 0..<200 {
                let region = regions[index % 4]
                group.addTask { (region, try await doc.evaluate("Sum({<Region={'\(region)'}>} Quantity)")) }
            }
            var all: [(String, String)] = []
            for try await result in group { all.append(result) }
            return all
        }
        #expect(results.count == 200)
        for region in regions {
            #expect(Set(results.filter { $0.0 == region }.map(\.1)).count == 1, "\(region) answered consistently")
        }
        #expect(Set(results.map(\.1)).count == 4)
    }
}
