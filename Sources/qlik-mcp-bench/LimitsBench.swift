import ArgumentParser
import Foundation
import RateLimiting

/// `qlik-mcp-bench limits`: what a rate-limit decision and a concurrency-limit slot cost, in
/// process (the Redis decision is one round trip: see the load benchmark's `--limits-compare`).
struct LimitsBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "limits",
        abstract: "Measure a local rate-limit decision (one and three limits) and an adaptive concurrency slot."
    )

    @Option(help: "Decisions to time per case.") var iterations = 1_000_000
    @Option(help: "Also write the results as JSON to this file.") var json: String?

    func validate() throws {
        guard (1_000...100_000_000).contains(iterations) else { throw ValidationError("--iterations must be between 1,000 and 100,000,000") }
    }

    func run() async throws {
        let limiter = LocalRateLimiter()
        let generous = RateLimit(name: "principal", perSecond: 1e6, burst: 1_000_000)
        let one = [RateLimitCheck(key: "p:alice", limit: generous)]
        let three =
            one + [
                RateLimitCheck(key: "pt:alice:list_measures", limit: RateLimit(name: "tool:list_measures", perSecond: 1e6, burst: 1_000_000)),
                RateLimitCheck(key: "t:default", limit: RateLimit(name: "tenant", perSecond: 1e6, burst: 1_000_000)),
            ]
        let concurrency = AdaptiveConcurrencyLimiter()
        var report = BenchReport(title: "qlik-mcp limits benchmark (\(iterations) decisions per case, one task)")
        let baseline = try await microsecondsPerCall(iterations: iterations) { 1 }
        let single = try await microsecondsPerCall(iterations: iterations) { limiter.decide(one, now: limiter.now()).allowed }
        let triple = try await microsecondsPerCall(iterations: iterations) { limiter.decide(three, now: limiter.now()).allowed }
        let slot = try await microsecondsPerCall(iterations: iterations) { () async throws -> Int in
            try await concurrency.acquire(.interactive)
            concurrency.release(.completed(.microseconds(500)))
            return 1
        }
        report.add("rate limit: one limit", single - baseline, "µs/decision", target: "≤ 1 µs", meets: single - baseline <= 1)
        report.add("rate limit: principal + tool + tenant", triple - baseline, "µs/decision", target: "≤ 1 µs", meets: triple - baseline <= 1)
        report.add("engine concurrency slot (acquire + release)", slot - baseline, "µs/call")
        report.printTable()
        if let json { try report.writeJSON(to: json) }
    }
}
