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
@Suite("Adaptive engine concurrency under load (run alone: scripts/test)", .serialized)
struct AdaptiveConcurrencyUnderLoadTests {
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
                // Phases end on what the limiter shows (bounded), not on wall time: the machine may be busy.
                func waitFor(_ what: String, _ condition: () -> Bool) async throws {
                    let deadline = ContinuousClock.now + .seconds(60)
                    while !condition() {
                        guard ContinuousClock.now < deadline else {
                            Issue.record("timed out waiting for \(what) (limit \(concurrency.limit))")
                            return
                        }
                        try await Task.sleep(for: .milliseconds(50))
                    }
                }
                try await waitFor("200 fast calls") { calls.results.withLock { $0.count } >= 200 }
                let fastLimit = concurrency.limit
                engine.faults.update { $0.latency = .milliseconds(200) }
                calls.phase.store(1, ordering: .relaxed)
                try await waitFor("the limit to drop and calls to be shed") {
                    concurrency.limit <= fastLimit * 3 / 4 && calls.results.withLock { $0.contains { $0.phase == 1 && $0.code == "overloaded" } }
                }
                let slowLimit = concurrency.limit
                engine.faults.update { $0.latency = .milliseconds(1) }
                calls.phase.store(2, ordering: .relaxed)
                // Calls still in flight from the slow phase keep pulling it down for a moment; from its
                // lowest point it must climb again.
                var lowest = slowLimit
                try await waitFor("the limit to recover") {
                    lowest = min(lowest, concurrency.limit)
                    return concurrency.limit >= lowest + 3
                }
                let recoveredLimit = concurrency.limit
                calls.phase.store(3, ordering: .relaxed)
                try await group.waitForAll()
                let results = calls.results.withLock { $0 }
                let slow = results.filter { $0.phase == 1 }
                let admitted = slow.filter { $0.code == nil }.map(\.seconds).sorted()
                let shed = slow.filter { $0.code == "overloaded" }
                let p99 = admitted.isEmpty ? 0 : admitted[min(admitted.count - 1, Int(Double(admitted.count) * 0.99))]
                #expect(slowLimit < fastLimit, "limit \(fastLimit) → \(slowLimit)")
                #expect(recoveredLimit > lowest, "limit \(slowLimit), lowest \(lowest) → \(recoveredLimit)")
                #expect(!shed.isEmpty, "excess calls are shed")
                #expect(!slow.contains { $0.code == "ENGINE_TIMEOUT" }, "no call waits for its timeout")
                // A list_measures call is several engine round trips (200 ms each) plus at most 300 ms in the
                // queue — about 1–2 s here; bounded well below the 30 s engine timeout even on a loaded machine.
                #expect(p99 < 10.0, "admitted p99 \(p99) s")
                print("adaptive: limit \(fastLimit) → \(slowLimit) (200 ms), lowest \(lowest) → \(recoveredLimit); slow phase: \(admitted.count) admitted, p99 \(p99) s, \(shed.count) shed")
            }
        }
    }
}
