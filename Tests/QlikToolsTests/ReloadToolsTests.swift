import DemoEngine
import DemoWiring
import Foundation
import JSONCore
import Logging
import MCPServerHost
import QlikTools
import Synchronization
import Testing

@Suite("reload tools")
struct ReloadToolsTests {
    @Test("list_reload_tasks: one daily task per demo app, filtered by app; unknown app is not found")
    func tasks() async throws {
        let (all, _, _) = try await ToolsFixture.call("list_reload_tasks")
        let expected = ToolsFixture.catalog.apps.map { "Reload \($0.title)" }
        #expect(all["tasks"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == expected)
        let (hr, _, _) = try await ToolsFixture.call("list_reload_tasks", ["app_id": "hr-insights"])
        let task = try #require(hr["tasks"]?.arrayValue?.first)
        #expect(hr["tasks"]?.arrayValue?.count == 1 && task["app_id"] == "hr-insights" && task["schedule"] == "daily at 05:00 UTC")
        #expect(task["last_status"] == "SUCCEEDED")
        let (missing, _, failed) = try await ToolsFixture.call("list_reload_tasks", ["app_id": "hr-insight"])
        #expect(failed && missing["error"]?["category"] == "not_found" && missing["error"]?["remediation"] == "did you mean 'hr-insights'?")
    }

    @Test("get_reload_history: the app's reloads newest first, with logs on request")
    func history() async throws {
        let hr = ToolsFixture.catalog.app(id: "hr-insights")!
        let (plain, _, _) = try await ToolsFixture.call("get_reload_history", ["app_id": "hr-insights"])
        let reloads = plain["reloads"]?.arrayValue ?? []
        #expect(reloads.compactMap { $0["id"]?.stringValue } == hr.reloads.map(\.id))
        #expect(reloads.first?["duration_seconds"]?.doubleValue == hr.reloads.first?.durationSeconds)
        #expect(reloads.allSatisfy { $0["log"] == nil })
        let (logged, text, _) = try await ToolsFixture.call("get_reload_history", ["app_id": "hr-insights", "include_log": true])
        #expect(logged["reloads"]?.arrayValue?.first?["log"]?.stringValue == hr.reloads.first?.log)
        #expect(text.contains(hr.reloads.first!.log))
        let sales = ToolsFixture.catalog.app(id: "sales-analytics")!
        let (limited, _, _) = try await ToolsFixture.call("get_reload_history", ["app_id": "sales-analytics", "limit": 1])
        #expect(limited["reloads"]?.arrayValue?.count == 1)
        #expect(sales.reloads.contains { $0.status == "FAILED" })
        await #expect(throws: ArgumentError.self) { try await ToolsFixture.call("get_reload_history", ["app_id": "hr-insights", "limit": 0]) }
    }

    @Test("reload_app runs DoReloadEx, reports increasing progress, records the reload and moves the last reload time")
    func reload() async throws {
        let catalog = DemoAppCatalog.standard(orderLines: 1_000)
        let demo = DemoBackend(catalog: catalog, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        let server = Task { try await demo.server.run() }
        defer { server.cancel() }
        let backend = await demo.backend()
        let updates = Mutex<[(Double, Double?, String?)]>([])
        let progress = ProgressReporter { value, total, message in updates.withLock { $0.append((value, total, message)) } }
        let registry = try ToolRegistry()
        let result = try await registry.call(
            "reload_app", arguments: ["app_id": "sales-analytics"],
            context: ToolContext(backend: backend, sessionID: "reload", progress: progress))
        #expect(result.isError != true)
        let structured = ValueBridge.json(try #require(result.structuredContent))
        try ToolArguments.validateOutput(structured, against: try #require(registry.tool(named: "reload_app")).output)
        #expect(structured["success"] == true && structured["partial"] == false)
        let orderLines = catalog.app(id: "sales-analytics")!.model.tables.first { $0.name == "OrderLines" }!.rowCount
        #expect(orderLines == 1_000)
        #expect(structured["log_tail"]?.stringValue?.contains("Lines fetched: 1,000") == true)
        let sent = updates.withLock { $0 }
        #expect(sent.count >= 3)
        #expect(zip(sent, sent.dropFirst()).allSatisfy { $0.0 < $1.0 })
        #expect(sent.last?.1 == sent.last?.0 && sent.dropLast().allSatisfy { $0.1 == nil })
        let history = catalog.reloadLog.history(appID: "sales-analytics")
        #expect(history.count == 4 && history[0].status == "SUCCEEDED")
        let context = ToolContext(backend: backend, sessionID: "reload")
        let app = ValueBridge.json(try #require(try await registry.call("get_app", arguments: ["app_id": "sales-analytics"], context: context).structuredContent))
        #expect(app["last_reload_time"]?.stringValue == history[0].endTime)
        let listed = ValueBridge.json(try #require(try await registry.call("get_reload_history", arguments: ["app_id": "sales-analytics"], context: context).structuredContent))
        #expect(listed["reloads"]?.arrayValue?.first?["id"]?.stringValue == history[0].id)
        await backend.pool.closeIdle()
    }

    @Test("reload_app: engine failure is an engine_error result; hidden in read-only mode; unknown app is not found")
    func failures() async throws {
        let faults = FaultController(FaultInjection(errorRate: 1, errorMethods: ["DoReloadEx"]))
        let demo = DemoBackend(catalog: .standard(orderLines: 1_000), faults: faults, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        let server = Task { try await demo.server.run() }
        defer { server.cancel() }
        let backend = await demo.backend()
        let registry = try ToolRegistry()
        let context = ToolContext(backend: backend, sessionID: "reload-fail")
        let failed = try await registry.call("reload_app", arguments: ["app_id": "sales-analytics"], context: context)
        #expect(failed.isError == true)
        #expect(ValueBridge.json(try #require(failed.structuredContent))["error"]?["category"] == "engine_error")
        #expect(demo.catalog.reloadLog.history(appID: "sales-analytics").count == 3)
        let missing = try await registry.call("reload_app", arguments: ["app_id": "no-such-app"], context: context)
        #expect(ValueBridge.json(try #require(missing.structuredContent))["error"]?["category"] == "not_found")
        #expect(try ToolRegistry(filter: .init(readOnly: true)).tool(named: "reload_app") == nil)
        let definition = try #require(registry.definitions.first { $0.name == "reload_app" })
        #expect(definition.annotations.readOnlyHint == false && definition.annotations.destructiveHint == true)
        await backend.pool.closeIdle()
    }

    @Test("Qlik Sense Desktop has no reload history: a clear unsupported error")
    func desktop() async throws {
        let backend = QlikBackend(kind: "desktop", endpoint: .desktop(host: "127.0.0.1", port: 9))
        #expect(backend.reloads == nil)
        let result = try await ToolRegistry().call("list_reload_tasks", arguments: [:], context: ToolContext(backend: backend, sessionID: "d"))
        #expect(ValueBridge.json(try #require(result.structuredContent))["error"]?["category"] == "unsupported")
    }
}
