import ArgumentParser
import DemoEngine
import Foundation
import HummingbirdWSClient
import JSONCore
import Logging
import QlikEngine
import Telemetry

/// `qlik-mcp-bench qix`: the QIX client and the demo engine, on loopback.
struct QIXBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qix",
        abstract: "Measure QIX round trips, client overhead, calls/s over 1 and 8 connections, hypercube latency and demo engine memory."
    )

    @Option(help: "Sequential trivial calls for the latency measurement.") var calls = 5_000
    @Option(help: "Seconds per throughput run.") var seconds = 3.0
    @Option(help: "Hypercube evaluations per case.") var cubes = 20
    @Option(help: "Also write the results as JSON to this file.") var json: String?

    func validate() throws {
        guard (100...1_000_000).contains(calls) else { throw ValidationError("--calls must be between 100 and 1,000,000") }
        guard (0.5...60).contains(seconds) else { throw ValidationError("--seconds must be between 0.5 and 60") }
        guard (1...1_000).contains(cubes) else { throw ValidationError("--cubes must be between 1 and 1,000") }
    }

    func run() async throws {
        let quiet = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }
        let rssBefore = ProcessSample.read()?.residentBytes ?? 0
        let catalog = DemoAppCatalog.standard()
        let rssAfter = ProcessSample.read()?.residentBytes ?? 0
        let server = DemoEngineServer(catalog: catalog, configuration: .init(host: "127.0.0.1", port: 0), logger: quiet)
        let serverTask = Task { try await server.run() }
        defer { serverTask.cancel() }
        let port = await server.listeningPort()
        let endpoint = QIXEndpoint.desktop(host: "127.0.0.1", port: port)
        var report = BenchReport(title: "qlik-mcp QIX benchmark (\(ProcessInfo.processInfo.activeProcessorCount) cores, loopback, in-process demo engine)")

        // Latency of a trivial call, ours vs a raw WebSocket client sending prebuilt text.
        let connection = try await QIXConnection.connect(to: endpoint, appID: nil, logger: quiet)
        let ours = try await latencies(calls) { _ = try await connection.call(handle: -1, method: "EngineVersion") }
        let raw = try await rawLatencies(port: port, count: calls)
        report.add("trivial call p50 (our client)", ours.p50, "µs")
        report.add("trivial call p99 (our client)", ours.p99, "µs")
        report.add("trivial call p50 (raw WebSocket)", raw.p50, "µs")
        report.add("client overhead p50", ours.p50 - raw.p50, "µs", target: "≤ 50", meets: ours.p50 - raw.p50 <= 50)
        connection.close()

        for connections in [1, 8] {
            let rate = try await throughput(endpoint: endpoint, connections: connections, inFlightPerConnection: 8, quiet: quiet)
            report.add(
                "trivial calls/s, \(connections) connection\(connections == 1 ? "" : "s")", rate, "calls/s",
                target: connections == 8 ? "≥ 20000" : nil, meets: connections == 8 ? rate >= 20_000 : nil)
        }

        let cube: JSONValue = [
            "qInfo": ["qType": "bench-cube"],
            "qHyperCubeDef": [
                "qDimensions": [["qDef": ["qFieldDefs": ["Region"]]], ["qDef": ["qFieldDefs": ["Category"]]]],
                "qMeasures": [["qDef": ["qDef": "Sum(Sales)"]], ["qDef": ["qDef": "Count(DISTINCT OrderID)"]]],
                "qInitialDataFetch": [["qTop": 0, "qLeft": 0, "qWidth": 4, "qHeight": 100]],
            ],
        ]
        let sales = try await QIXConnection.connect(to: endpoint, appID: "sales-analytics", logger: quiet)
        let doc = try await Global(connection: sales).openDoc("sales-analytics")
        let object = try await doc.createSessionObject(cube)
        let cold = try await latencies(cubes) { _ = try await object.layout() }
        report.add("hypercube 2×2 over 120k rows, p50", cold.p50 / 1000, "ms", target: "≤ 20", meets: cold.p50 / 1000 <= 20)
        try await doc.field("Year").select("2025")
        let selected = try await latencies(cubes) { _ = try await object.layout() }
        report.add("same, with Year=2025 selected, p50", selected.p50 / 1000, "ms", target: "≤ 20", meets: selected.p50 / 1000 <= 20)
        let evaluate = try await latencies(cubes) { _ = try await doc.evaluate("Sum(Sales)") }
        report.add("Evaluate Sum(Sales) over 120k rows, p50", evaluate.p50 / 1000, "ms")
        sales.close()
        report.add("demo engine apps in memory (RSS growth)", Double(rssAfter - rssBefore) / 1_048_576, "MiB")
        report.add("process RSS after the run", Double(ProcessSample.read()?.residentBytes ?? 0) / 1_048_576, "MiB")
        report.printTable()
        if let json { try report.writeJSON(to: json) }
    }

    private func latencies(_ count: Int, _ body: () async throws -> Void) async throws -> Percentiles {
        try await measureLatencies(count: count, warmup: min(100, count), divisor: 1_000, body)
    }

    /// Round trips with a bare WebSocket client: prebuilt request text, wait for the next message.
    private func rawLatencies(port: Int, count: Int) async throws -> Percentiles {
        let request = #"{"jsonrpc":"2.0","id":1,"handle":-1,"method":"EngineVersion","params":{}}"#
        let result = ResultBox()
        try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/app/", logger: Logger(label: "raw") { _ in SwiftLogNoOpLogHandler() }) { inbound, outbound, _ in
            var messages = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
            _ = try await messages.next()  // OnConnected
            var samples: [Double] = []
            for index in 0..<(count + 100) {
                let start = monotonicNanos()
                try await outbound.write(.text(request))
                _ = try await messages.next()
                if index >= 100 { samples.append(Double(monotonicNanos() - start) / 1000) }
            }
            result.set(Percentiles(samples))
            try await outbound.close(.normalClosure, reason: nil)
        }
        return result.value!
    }

    private func throughput(endpoint: QIXEndpoint, connections: Int, inFlightPerConnection: Int, quiet: Logger) async throws -> Double {
        var pool: [QIXConnection] = []
        for _ in 0..<connections { pool.append(try await QIXConnection.connect(to: endpoint, appID: nil, logger: quiet)) }
        defer { pool.forEach { $0.close() } }
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        let start = ContinuousClock.now
        let total = try await withThrowingTaskGroup(of: Int.self) { group in
            for connection in pool {
                for _ in 0..<inFlightPerConnection {
                    group.addTask {
                        var done = 0
                        while ContinuousClock.now < deadline {
                            _ = try await connection.call(handle: -1, method: "EngineVersion")
                            done += 1
                        }
                        return done
                    }
                }
            }
            return try await group.reduce(0, +)
        }
        return Double(total) / (ContinuousClock.now - start).seconds
    }
}

/// Carries a value out of a `@Sendable` closure.
private final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Percentiles?
    func set(_ value: Percentiles) { lock.withLock { stored = value } }
    var value: Percentiles? { lock.withLock { stored } }
}
