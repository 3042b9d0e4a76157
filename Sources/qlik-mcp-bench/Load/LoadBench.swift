import ArgumentParser
import AsyncHTTPClient
import DemoEngine
import Foundation
import Logging

/// `qlik-mcp-bench load`: the load generator. Starts the demo engine in this process, then for
/// each target (qlik-mcp over HTTP and stdio, plus the peers of a targets file) and scenario
/// starts the server, drives it over loopback and prints one row per run; the first target is the
/// baseline of the ratio column. Bounded in time (`--duration`) and count (`--max-requests`).
struct LoadBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Drive MCP servers with a load generator (Streamable HTTP or stdio) and compare them.",
        discussion: """
            Examples:
              qlik-mcp-bench load --scenario metadata --concurrency 1,16,256
              qlik-mcp-bench load --scenario metadata --mode open --rate 500 --sessions 1000
              qlik-mcp-bench load --targets Benchmarks/compare/targets.json --venvs .build-bench/venvs
              qlik-mcp-bench load --smoke        # seconds; checks the harness, numbers meaningless
            """
    )

    @Option(help: "Comma-separated scenarios: trivial, metadata, data, mixed, storm.") var scenario = "trivial,metadata,data,mixed,storm"
    @Option(help: "A JSON file of extra targets (peers); see Benchmarks/compare/targets.json.") var targets: String?
    @Option(help: "Comma-separated target names to run (default: all).") var only: String?
    @Flag(help: "Skip the built-in qlik-mcp stdio target.") var noStdio = false
    @Flag(help: "Add qlik-mcp with telemetry off (no spans, logs at error) to measure the telemetry cost.") var telemetryCompare = false
    @Flag(help: "Add qlik-mcp with --cache off (and with --cache redis when --redis-url is given) to measure the cache.") var cacheCompare = false
    @Flag(help: "Add qlik-mcp with --cache off, with and without --resilience off, to measure what breakers and retries cost (a cache hit never reaches them).")
    var resilienceCompare = false
    @Flag(help: "Add qlik-mcp with generous rate limits (principal, tool, tenant) and with no limits at all (--engine-concurrency off) to measure what limiting costs.")
    var limitsCompare = false
    @Option(help: "The Redis of the --cache redis target (e.g. redis://127.0.0.1:6390/0).") var redisURL: String?
    @Flag(help: "Add qlik-mcp with --auth apikey and with --auth oauth (its own ES256 tokens) to measure the cost of authentication.") var authCompare = false
    @Option(help: "closed (workers send back to back) or open (fixed rate, coordinated-omission corrected).") var mode = "closed"
    @Option(help: "Closed mode: comma-separated concurrency levels (HTTP: one session per worker).") var concurrency = "1,16"
    @Option(help: "Open mode: operations per second.") var rate = 200.0
    @Option(help: "Open mode: sessions the calls are spread over (HTTP).") var sessions = 16
    @Option(help: "Seconds per measured run.") var duration = 10
    @Option(help: "Most operations per measured run.") var maxRequests = 200_000
    @Option(help: "Untimed operations before each run (spread over the workers; at least one each).") var warmup = 16
    @Option(help: "Sessions opened at once by the storm scenario.") var stormSessions = 1_000
    @Option(help: "Folder of the peers' virtualenvs ({venvs} in a targets file).") var venvs = ".build-bench/venvs"
    @Option(help: "Folder for the JSON results and server logs.") var results = "results"
    @Flag(help: "Seconds-long run of every scenario with tiny bounds: checks the harness, not performance (implies --fail-on-errors).") var smoke = false
    @Flag(help: "Exit non-zero when a target fails to start or any call fails.") var failOnErrors = false

    func validate() throws {
        for name in scenarioList where LoadScenario(rawValue: name) == nil {
            throw ValidationError("unknown scenario '\(name)'; use trivial, metadata, data, mixed or storm")
        }
        guard ["closed", "open"].contains(mode) else { throw ValidationError("--mode must be closed or open") }
        guard !levels.isEmpty, levels.allSatisfy({ (1...2_000).contains($0) }) else { throw ValidationError("--concurrency must list numbers between 1 and 2000") }
        guard (1...600).contains(duration) else { throw ValidationError("--duration must be between 1 and 600 seconds") }
        guard rate > 0, rate <= 100_000 else { throw ValidationError("--rate must be between 1 and 100000") }
        guard (1...20_000).contains(sessions), (1...20_000).contains(stormSessions) else { throw ValidationError("--sessions and --storm-sessions must be between 1 and 20000") }
        guard maxRequests > 0, warmup >= 0 else { throw ValidationError("--max-requests must be positive and --warmup not negative") }
    }

    var scenarioList: [String] { scenario.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
    var levels: [Int] { smoke ? [1, 4] : concurrency.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }

    func run() async throws {
        LoggingSystem.bootstrap { _ in SwiftLogNoOpLogHandler() }
        let plan = LoadRunPlan(
            mode: mode == "open" ? .open(perSecond: smoke ? 50 : rate, maxInFlight: 10_000) : nil,
            levels: levels, duration: .seconds(smoke ? 1 : duration), maxRequests: smoke ? 200 : maxRequests,
            warmup: smoke ? 1 : warmup, sessions: smoke ? 4 : sessions, stormSessions: smoke ? 20 : stormSessions)
        var list = [BenchTarget.qlikMCP()]
        if telemetryCompare {
            list.append(.qlikMCP(name: "qlik-mcp (telemetry off)", extraArguments: ["--log-level", "error"], env: ["OTEL_SDK_DISABLED": "true"]))
        }
        if cacheCompare {
            list.append(.qlikMCP(name: "qlik-mcp (cache off)", extraArguments: ["--cache", "off"]))
            if let redisURL { list.append(.qlikMCP(name: "qlik-mcp (cache redis)", extraArguments: ["--cache", "redis", "--redis-url", redisURL])) }
        }
        if resilienceCompare {
            if !cacheCompare { list.append(.qlikMCP(name: "qlik-mcp (cache off)", extraArguments: ["--cache", "off"])) }
            list.append(.qlikMCP(name: "qlik-mcp (cache off / resilience off)", extraArguments: ["--cache", "off", "--resilience", "off"]))
        }
        if limitsCompare {
            list.append(
                .qlikMCP(
                    name: "qlik-mcp (generous limits)",
                    extraArguments: ["--rate-limit-principal", "100000/s", "--rate-limit-tenant", "100000/s", "--rate-limit-tool", "list_measures=100000/s,query_data=100000/s"]))
            list.append(.qlikMCP(name: "qlik-mcp (no limits)", extraArguments: ["--engine-concurrency", "off"]))
        }
        if authCompare { list += try await AuthBenchTargets.make(in: URL(fileURLWithPath: results)) }
        if !noStdio { list.append(.qlikMCPStdio) }
        if let targets {
            do {
                let file = URL(fileURLWithPath: targets).standardizedFileURL
                let here = ["here": file.deletingLastPathComponent().path]
                list += try JSONDecoder().decode(TargetsFile.self, from: Data(contentsOf: file)).targets.map { $0.expanded(here) }
            } catch {
                throw ValidationError("cannot read --targets \(targets): \(error)")
            }
        }
        if let only {
            let names = Set(only.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            list = list.filter { names.contains($0.name) }
            guard !list.isEmpty else { throw ValidationError("--only matched no target") }
        }
        let runner = try LoadRunner(plan: plan, results: URL(fileURLWithPath: results), venvs: URL(fileURLWithPath: venvs).standardizedFileURL.path)
        let rows = try await runner.run(
            targets: list, scenarios: scenarioList.compactMap(LoadScenario.init(rawValue:)),
            commandLine: (["qlik-mcp-bench"] + CommandLine.arguments.dropFirst()).joined(separator: " "))
        // Smoke mode guards the harness (CI): any target that failed to start, any failed run and
        // any call error fails the command. Never a timing check.
        let broken = rows.filter { $0.failed || $0.errors > 0 }
        if smoke || failOnErrors, !broken.isEmpty {
            for row in broken { print("FAILED: \(row.target) \(row.scenario) \(row.mode): \(row.skipped ?? row.firstError ?? "\(row.errors) errors")") }
            throw ExitCode.failure
        }
    }
}

/// The `targets` array of a targets file.
struct TargetsFile: Codable {
    var targets: [BenchTarget]
}
