import ArgumentParser
import DemoEngine
import DemoWiring
import Foundation
import JSONCore
import Logging
import MCPServerHost
import QlikEngine
import QlikTools

/// `qlik-mcp-bench tools`: per-tool latency through the tool layer against the in-process demo
/// engine, next to the direct QIX calls the tool makes, to show the server's own overhead.
struct ToolsBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tools",
        abstract: "Measure per-tool latency (p50/p99) and the tool layer's overhead over direct QIX calls."
    )

    @Option(help: "Calls per tool.") var calls = 1_000

    func validate() throws {
        guard (10...100_000).contains(calls) else { throw ValidationError("--calls must be between 10 and 100,000") }
    }

    func run() async throws {
        // The tool layer's own cost, without log output (the server-level benches include it).
        LoggingSystem.bootstrap { _ in SwiftLogNoOpLogHandler() }
        let quiet = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }
        let demo = DemoBackend(logger: quiet)
        let serverTask = Task { try await demo.server.run() }
        defer { serverTask.cancel() }
        let backend = await demo.backend()
        let endpoint = backend.endpoint
        let registry = try ToolRegistry()
        let context = ToolContext(backend: backend, sessionID: "bench")
        let connection = try await QIXConnection.connect(to: endpoint, appID: "sales-analytics", logger: quiet)
        let doc = try await Global(connection: connection).openDoc("sales-analytics")
        let cube = try await doc.createSessionObject([
            "qInfo": ["qType": "bench"],
            "qHyperCubeDef": [
                "qDimensions": [["qDef": ["qFieldDefs": ["Region"]]], ["qDef": ["qFieldDefs": ["Category"]]]],
                "qMeasures": [["qDef": ["qDef": "Sum(Sales)"]], ["qDef": ["qDef": "Count(DISTINCT OrderID)"]]],
                "qInitialDataFetch": [["qTop": 0, "qLeft": 0, "qWidth": 4, "qHeight": 100]],
            ],
        ])
        let cases: [(String, JSONValue, () async throws -> Void)] = [
            ("get_engine_info", [:], { _ = try await connection.call(handle: -1, method: "EngineVersion") }),
            ("evaluate_expression", ["app_id": "sales-analytics", "expression": "Sum(Sales)"], { _ = try await doc.evaluate("Sum(Sales)") }),
            (
                "list_measures", ["app_id": "sales-analytics"],
                {
                    // What a hand-written client does for one listing: create, read, destroy.
                    let list = try await doc.createSessionObject(["qInfo": ["qType": "m"], "qMeasureListDef": ["qType": "measure"]])
                    _ = try await list.layout()
                    try await doc.destroySessionObject(list.genericID)
                }
            ),
            (
                "query_data", ["app_id": "sales-analytics", "dimensions": ["Region", "Category"], "measures": ["Sum(Sales)", "Count(DISTINCT OrderID)"]],
                { _ = try await cube.layout() }
            ),
        ]
        print("# qlik-mcp tool benchmark (\(ProcessInfo.processInfo.activeProcessorCount) cores, in-process demo engine, \(calls) calls per tool)")
        print("tool                   tool p50   tool p99   direct p50   direct p99   overhead p50   overhead p99   (ms; target overhead p50 ≤ 1, p99 ≤ 5)")
        for (name, arguments, direct) in cases {
            let tool = try await measure { _ = try await registry.call(name, arguments: arguments, context: context) }
            let base = try await measure(direct)
            let line =
                name.padding(toLength: 22, withPad: " ", startingAt: 0)
                + String(format: " %8.3f   %8.3f   %10.3f   %10.3f   %12.3f   %12.3f", tool.p50, tool.p99, base.p50, base.p99, tool.p50 - base.p50, tool.p99 - base.p99)
            print(line)
        }
        connection.close()
        await backend.pool.closeIdle()
    }

    private func measure(_ body: () async throws -> Void) async throws -> Percentiles {
        try await measureLatencies(count: calls, warmup: min(50, calls), divisor: 1e6, body)
    }
}
