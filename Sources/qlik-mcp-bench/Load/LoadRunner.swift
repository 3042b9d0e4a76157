import AsyncHTTPClient
import DemoEngine
import Foundation
import Logging

/// The bounds of a `bench load` invocation.
struct LoadRunPlan: Sendable {
    /// Open-loop pacing, or nil for closed-loop runs at each of `levels`.
    var mode: LoadMode?
    var levels: [Int]
    var duration: Duration
    var maxRequests: Int
    var warmup: Int
    var sessions: Int
    var stormSessions: Int
}

/// One row of the results table (also written as JSON). Latencies in milliseconds.
struct LoadRow: Codable, Sendable {
    var target: String
    var transport: String
    var scenario: String
    var mode: String
    var operations = 0
    var throughput = 0.0
    var unit = ""
    var p50 = Double.nan, p90 = Double.nan, p99 = Double.nan, max = Double.nan
    var errors = 0
    var firstError: String?
    var cpuSeconds = Double.nan
    var peakRSSMiB = Double.nan
    /// Baseline throughput ÷ this throughput (how many times the baseline's throughput).
    var baselineRatio: Double?
    /// qlik-mcp over HTTP: share of cacheable calls answered from its cache during the run
    /// (from its /metrics).
    var cacheHitRatio: Double?
    /// Set when the target could not run the scenario, with the reason.
    var skipped: String?
    /// The target failed to start or a run failed (as opposed to having no equivalent tool).
    var failed = false

    enum CodingKeys: String, CodingKey {
        case target, transport, scenario, mode, operations, throughput, unit, p50, p90, p99, max, errors, firstError, cpuSeconds, peakRSSMiB, baselineRatio, cacheHitRatio, skipped, failed
    }
}

/// Runs targets × scenarios against one in-process demo engine and reports.
struct LoadRunner {
    let plan: LoadRunPlan
    let results: URL
    let venvs: String

    init(plan: LoadRunPlan, results: URL, venvs: String) throws {
        self.plan = plan
        self.results = results
        self.venvs = venvs
        try FileManager.default.createDirectory(at: results.appendingPathComponent("logs"), withIntermediateDirectories: true)
    }

    /// Runs everything, prints the table, writes the JSON; returns the rows.
    @discardableResult
    func run(targets: [BenchTarget], scenarios: [LoadScenario], commandLine: String) async throws -> [LoadRow] {
        let quiet = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }
        let engine = DemoEngineServer(catalog: .standard(), configuration: .init(port: 0), logger: quiet)
        let engineTask = Task { try await engine.run() }
        defer { engineTask.cancel() }
        let enginePort = await engine.listeningPort()
        var configuration = HTTPClient.Configuration()
        let widest = ([plan.sessions, plan.stormSessions] + plan.levels).max()! + 64
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: widest)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        defer { _ = client.shutdown() }
        let executable = ServerBinary.path
        let sink = LoopbackOTLPSink()
        let rows = try await sink.run { otlpPort in
            var rows: [LoadRow] = []
            for scenario in scenarios {
                for target in targets {
                    let values = [
                        "qlik-mcp": executable, "engine_port": String(enginePort), "venvs": venvs,
                        "otlp": "http://127.0.0.1:\(otlpPort)", "port": String(try freeLoopbackPort()),
                    ]
                    rows += await measure(target.expanded(values), scenario, client: client)
                }
            }
            return rows
        }
        let ratioed = Self.withRatios(rows)
        LoadTable(rows: ratioed, targets: targets, plan: plan).print()
        let file = results.appendingPathComponent("load-\(Int(Date().timeIntervalSince1970)).json")
        try LoadResultsFile(
            commandLine: commandLine, machine: .current, rows: ratioed,
            notes: targets.compactMap { target in target.note.map { "\(target.name): \($0)" } }
        ).write(to: file)
        Swift.print("results: \(file.path)")
        return ratioed
    }

    private func measure(_ target: BenchTarget, _ scenario: LoadScenario, client: HTTPClient) async -> [LoadRow] {
        var row = LoadRow(target: target.name, transport: target.transport.rawValue, scenario: scenario.rawValue, mode: "-", unit: scenario.unit)
        if let reason = ScenarioDriver.unsupportedReason(scenario, on: target) {
            row.skipped = reason
            return [row]
        }
        let slug = target.name.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" }
        let log = results.appendingPathComponent("logs/\(String(slug))-\(scenario.rawValue).log")
        let running: RunningTarget
        do {
            running = try await RunningTarget.start(target, client: client, log: log)
        } catch {
            row.skipped = "\(error)"
            row.failed = true
            return [row]
        }
        defer { running.stop() }
        var rows: [LoadRow] = []
        for mode in modes(for: scenario) {
            var measured = row
            measured.mode = mode.description
            do {
                let driver = try await driver(scenario, running, mode: mode)
                let cpuBefore = running.cpuSeconds
                let cacheBefore = await CacheCounters.read(target, client: client)
                let stats = await LoadGenerator.run(loadPlan(scenario, mode), operation: driver.operation())
                measured.cpuSeconds = running.cpuSeconds - cpuBefore
                if let before = cacheBefore, let after = await CacheCounters.read(target, client: client) { measured.cacheHitRatio = after.ratio(since: before) }
                measured.peakRSSMiB = running.peakRSSMiB
                await driver.closeStormSessions()
                for session in driver.sessions where target.transport == .http { await session.close() }
                measured.operations = stats.operations
                measured.throughput = stats.throughput
                (measured.p50, measured.p90, measured.p99, measured.max) = (stats.percentileMillis(50), stats.percentileMillis(90), stats.percentileMillis(99), stats.maxMillis)
                measured.errors = stats.errors
                measured.firstError = stats.firstError
            } catch {
                measured.skipped = "\(error)"
                measured.failed = true
            }
            rows.append(measured)
        }
        return rows
    }

    private func modes(for scenario: LoadScenario) -> [LoadMode] {
        if scenario == .storm { return [.closed(concurrency: plan.stormSessions)] }
        if let open = plan.mode { return [open] }
        return plan.levels.map { .closed(concurrency: $0) }
    }

    private func loadPlan(_ scenario: LoadScenario, _ mode: LoadMode) -> LoadPlan {
        if scenario == .storm { return LoadPlan(mode: mode, duration: .seconds(120), maxOperations: plan.stormSessions, warmup: 0) }
        return LoadPlan(mode: mode, duration: plan.duration, maxOperations: plan.maxRequests, warmup: plan.warmup)
    }

    /// Opens the sessions a single-call scenario spreads its calls over: one per worker (closed
    /// mode) or `--sessions` (open mode) over HTTP; the process's one session over stdio.
    private func driver(_ scenario: LoadScenario, _ running: RunningTarget, mode: LoadMode) async throws -> ScenarioDriver {
        var count = 0
        switch (scenario, running.target.transport) {
        case (.storm, _): count = 0
        case (_, .stdio): count = 1
        case (.mixed, .http): count = 0
        case (_, .http):
            if case .closed(let concurrency) = mode { count = concurrency } else { count = plan.sessions }
        }
        var sessions: [any MCPBenchSession] = []
        // Opened 64 at a time so the setup itself is not a connection storm.
        while sessions.count < count {
            let batch = Swift.min(64, count - sessions.count)
            sessions += try await withThrowingTaskGroup(of: (any MCPBenchSession).self) { group in
                for _ in 0..<batch { group.addTask { try await running.newSession() } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
        }
        return ScenarioDriver(scenario: scenario, target: running, sessions: sessions)
    }

    /// Adds the ratio column: the first target's throughput in the same scenario and mode ÷ this row's.
    static func withRatios(_ rows: [LoadRow]) -> [LoadRow] {
        var baselines: [String: Double] = [:]
        return rows.map { row in
            var row = row
            guard row.skipped == nil, row.throughput > 0 else { return row }
            let key = row.scenario + "|" + row.mode
            if let baseline = baselines[key] { row.baselineRatio = baseline / row.throughput } else { baselines[key] = row.throughput; row.baselineRatio = 1 }
            return row
        }
    }
}
