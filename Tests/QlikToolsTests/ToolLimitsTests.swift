import DemoEngine
import Foundation
import JSONCore
import MCP
import RateLimiting
import Synchronization
import Testing

@testable import QlikTools

/// The engine's adaptive concurrency limit under 64 concurrent callers while the demo engine's
/// latency goes from 1 ms to 200 ms and back.
@Suite("Adaptive engine concurrency", .serialized)
struct ToolLimitsTests {
    final class Calls: Sendable {
        let results = Mutex<[(phase: Int, seconds: Double, code: String?)]>([])
        let phase = Atomic<Int>(0)
    }

    @Test("slow engine: the limit drops, excess calls are shed as overloaded (not timed out), admitted calls stay bounded; fast again: the limit recovers")
    func adaptsToLatency() async throws {
        try await ToolResilienceTests.withEngine { engine in
            var configuration = AdaptiveConcurrencyLimiter.Configuration()
            configuration.maxWait = .milliseconds(300)
            var settings = ToolLimits.Settings()
            settings.concurrency = configuration
            let limits = ToolLimits(settings: settings, limiter: LocalRateLimiter())
            var registry = try ToolRegistry()
            registry.limits = limits
            let concurrency = try #require(limits.concurrency)
            let calls = Calls()
            let tools = registry
            engine.faults.update { $0.latency = .milliseconds(1) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for client in 0..<64 {
                    group.addTask {
                        while calls.phase.load(ordering: .relaxed) < 3 {
                            let current = calls.phase.load(ordering: .relaxed)
                            let started = ContinuousClock.now
                            let result = try await tools.call(
                                "list_measures", arguments: ToolResilienceTests.sales,
                                context: ToolContext(backend: engine.backend, sessionID: "s\(client)"))
                            let seconds = (ContinuousClock.now - started).seconds
                            let code = result.isError == true ? ToolResilienceTests.result(result)["error"]?["code"]?.stringValue : nil
                            calls.results.withLock { $0.append((current, seconds, code)) }
                            if code == "overloaded" { try await Task.sleep(for: .milliseconds(50)) }  // a client backing off
                        }
                    }
                }
                try await Task.sleep(for: .seconds(2))
                let fastLimit = concurrency.limit
                engine.faults.update { $0.latency = .milliseconds(200) }
                calls.phase.store(1, ordering: .relaxed)
                try await Task.sleep(for: .seconds(4))
                let slowLimit = concurrency.limit
                engine.faults.update { $0.latency = .milliseconds(1) }
                calls.phase.store(2, ordering: .relaxed)
                try await Task.sleep(for: .seconds(4))
                let recoveredLimit = concurrency.limit
                calls.phase.store(3, ordering: .relaxed)
                try await group.waitForAll()
                let results = calls.results.withLock { $0 }
                let slow = results.filter { $0.phase == 1 }
                let admitted = slow.filter { $0.code == nil }.map(\.seconds).sorted()
                let shed = slow.filter { $0.code == "overloaded" }
                let p99 = admitted.isEmpty ? 0 : admitted[min(admitted.count - 1, Int(Double(admitted.count) * 0.99))]
                #expect(slowLimit < fastLimit, "limit \(fastLimit) → \(slowLimit)")
                #expect(recoveredLimit > slowLimit, "limit \(slowLimit) → \(recoveredLimit)")
                #expect(!shed.isEmpty, "excess calls are shed")
                #expect(!slow.contains { $0.code == "ENGINE_TIMEOUT" }, "no call waits for its timeout")
                // A list_measures call is several engine round trips (200 ms each) plus at most 300 ms in the queue.
                #expect(p99 < 3.0, "admitted p99 \(p99) s")
                print("adaptive: limit \(fastLimit) → \(slowLimit) (200 ms) → \(recoveredLimit); slow phase: \(admitted.count) admitted, p99 \(p99) s, \(shed.count) shed")
            }
        }
    }
}
