import ArgumentParser
import AsyncHTTPClient
import DemoWiring
import Foundation
import JSONCore
import Logging
import MCPServerHost
import NIOCore
import QlikTools

/// `qlik-mcp-bench server`: the real server binary over Streamable HTTP on loopback — cold start,
/// idle RSS, tool-call throughput and latency at 1/16/256 concurrent clients, the overhead over an
/// in-process tool call, and memory per idle session. Bounded in time and count.
struct ServerBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Benchmark `serve --transport http` end to end (loopback only).",
        discussion: "Example: swift run -c release qlik-mcp-bench server --seconds 5 --idle-sessions 10000"
    )

    @Option(help: "Seconds per concurrency level.") var seconds = 5
    @Option(help: "Idle sessions to open for the memory measurement.") var idleSessions = 10_000
    @Option(help: "Comma-separated concurrency levels.") var concurrency = "1,16,256"
    @Option(help: "Write the results as JSON to this file.") var json: String?

    func validate() throws {
        guard (1...120).contains(seconds) else { throw ValidationError("--seconds must be between 1 and 120") }
        guard (0...20_000).contains(idleSessions) else { throw ValidationError("--idle-sessions must be between 0 and 20,000") }
        guard !levels.isEmpty, levels.allSatisfy({ (1...1_024).contains($0) }) else { throw ValidationError("--concurrency must list numbers between 1 and 1024") }
    }

    var levels: [Int] { concurrency.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }

    func run() async throws {
        LoggingSystem.bootstrap { _ in SwiftLogNoOpLogHandler() }  // the in-process baseline must not log to the terminal
        var report = BenchReport(title: "qlik-mcp server benchmark (\(ProcessInfo.processInfo.activeProcessorCount) cores, Streamable HTTP on loopback, demo engine in-process)")
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 1_100)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        defer { _ = client.shutdown() }
        // The engine is a demo engine in this process, reached over ws:// like a Qlik Sense Desktop,
        // so the server's own start-up and memory are measured without the demo data; a second
        // run with --demo shows the cost of generating the sample apps.
        let quiet = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }
        let demo = DemoBackend(logger: quiet)
        let demoTask = Task { try await demo.server.run() }
        defer { demoTask.cancel() }
        let engine = await demo.backend()
        let withDemo = try await SpawnedServer.start(extraArguments: ["--demo"], client: client)
        report.add("cold start to ready, --demo (generates 120,000 rows)", withDemo.readyMilliseconds, "ms")
        report.add("idle RSS, --demo", withDemo.rssMiB(), "MiB")
        _ = withDemo.terminate()
        let server = try await SpawnedServer.start(
            extraArguments: [
                "--engine", "ws://127.0.0.1:\(await demo.server.listeningPort())",
                "--max-sessions", String(idleSessions + levels.max()! + 100),
            ], client: client)
        defer { server.kill() }
        report.add("cold start to listening (external engine)", server.listeningMilliseconds, "ms")
        report.add("cold start to ready (/readyz 200)", server.readyMilliseconds, "ms", target: "≤ 150", meets: server.readyMilliseconds <= 150)
        let idleRSS = server.rssMiB()
        report.add("idle RSS (external engine)", idleRSS, "MiB", target: "≤ 50", meets: idleRSS <= 50)

        let url = "http://127.0.0.1:\(server.port)/mcp"
        let open: @Sendable () async throws -> HTTPBenchSession = {
            let session = HTTPBenchSession(client: client, url: url)
            try await session.handshake()
            return session
        }

        let inProcess = try await Self.inProcessP50(backend: engine)
        report.add("in-process get_engine_info p50", inProcess, "ms")
        let call = BenchTarget.qlikMCPTools["trivial"]!
        for level in levels {
            let sessions = try await withThrowingTaskGroup(of: HTTPBenchSession.self) { group in
                for _ in 0..<level { group.addTask { try await open() } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let result = await LoadGenerator.run(LoadPlan(mode: .closed(concurrency: level), duration: .seconds(seconds), maxOperations: .max, warmup: 0)) { index in
                do { return try await sessions[index].callTool(call) } catch { return "\(error)" }
            }
            report.add("c=\(level) throughput", result.throughput, "calls/s")
            report.add("c=\(level) p50", result.percentileMillis(50), "ms")
            report.add("c=\(level) p99", result.percentileMillis(99), "ms")
            report.add("c=\(level) errors", Double(result.errors), "")
            if level == 1 {
                let overhead = result.percentileMillis(50) - inProcess
                report.add("server overhead p50 (c=1 over HTTP − in-process)", overhead, "ms", target: "≤ 1", meets: overhead <= 1)
            }
            for session in sessions { await session.close() }
        }
        if idleSessions > 0 {
            let before = server.rssMiB()
            var opened = 0
            while opened < idleSessions {
                let batch = min(64, idleSessions - opened)
                let done = await withTaskGroup(of: Int.self) { group in
                    for _ in 0..<batch { group.addTask { (try? await open()) == nil ? 0 : 1 } }
                    return await group.reduce(0, +)
                }
                guard done > 0 else { break }
                opened += done
            }
            let after = server.rssMiB()
            report.add("idle sessions opened", Double(opened), "")
            report.add("memory per idle session", (after - before) * 1024 / Double(max(1, opened)), "KiB")
            report.add("RSS with \(opened) idle sessions", after, "MiB", target: "≤ 1024 for 10,000", meets: opened >= 10_000 ? after <= 1024 : nil)
        }
        let stop = server.terminate()
        report.add("SIGTERM to exit", stop.milliseconds, "ms")
        report.add("exit status", Double(stop.status), "")
        report.printTable()
        if let json { try report.writeJSON(to: json) }
    }

    /// p50 of `get_engine_info` through the tool registry in this process (no transport).
    static func inProcessP50(backend: QlikBackend) async throws -> Double {
        let registry = try ToolRegistry()
        let context = ToolContext(backend: backend, sessionID: "bench")
        let latencies = try await measureLatencies(count: 1_000, warmup: 100, divisor: 1e6) {
            _ = try await registry.call("get_engine_info", arguments: [:], context: context)
        }
        await backend.pool.closeIdle()
        return latencies.p50
    }
}
