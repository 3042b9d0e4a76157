import ArgumentParser
import Foundation
import Resilience

/// `qlik-mcp-bench resilience`: what breakers, the retry budget and the call wrapper cost a
/// successful call (the happy path every tool call takes), in process.
struct ResilienceBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resilience",
        abstract: "Measure the per-call bookkeeping of circuit breakers and retries on the happy path."
    )

    @Option(help: "Calls to time per case.") var iterations = 1_000_000
    @Option(help: "Also write the results as JSON to this file.") var json: String?

    func validate() throws {
        guard (1_000...100_000_000).contains(iterations) else { throw ValidationError("--iterations must be between 1,000 and 100,000,000") }
    }

    func run() async throws {
        let engine = CircuitBreaker(name: "engine:bench", breakerClass: "engine")
        let tool = CircuitBreaker(name: "tool:bench", breakerClass: "tool")
        let budget = RetryBudget()
        let call = ResilientCall(breakers: [engine, tool], budget: budget, idempotent: true, operation: "bench")
        var report = BenchReport(title: "qlik-mcp resilience benchmark (\(iterations) calls per case, one task)")
        let baseline = try await time { 1 }
        let wrapped = try await time { try await call.run(classify: { _ in .ignored }) { 1 } }
        report.add("no-op call", baseline, "µs/call")
        report.add("through two breakers + retry budget", wrapped, "µs/call")
        report.add("bookkeeping per call", wrapped - baseline, "µs/call", target: "≤ 2 µs", meets: wrapped - baseline <= 2)
        report.printTable()
        if let json { try report.writeJSON(to: json) }
    }

    private func time<T>(_ body: () async throws -> T) async throws -> Double {
        try await microsecondsPerCall(iterations: iterations, body)
    }
}
