import Foundation
import JSONCore
import Telemetry
import Testing

@testable import QlikTools

@Suite("tool metrics")
struct ToolMetricsTests {
    @Test("qlik_app_access_total: one series per app up to 50 apps, the rest counted as 'other'")
    func appAccessIsBounded() throws {
        let metrics = TelemetryMetrics()
        let instrumentation = ToolInstrumentation(factory: metrics.factory)
        for index in 0..<80 { instrumentation.recordAppAccess("app-\(index)") }
        for _ in 0..<3 { instrumentation.recordAppAccess("app-7") }
        for _ in 0..<2 { instrumentation.recordAppAccess("app-79") }
        let lines = metrics.render().split(separator: "\n").filter { $0.hasPrefix("qlik_app_access_total{") }
        #expect(lines.count == ToolInstrumentation.maxTrackedApps + 1)
        #expect(lines.contains("qlik_app_access_total{app=\"app-7\"} 4"))
        #expect(lines.contains("qlik_app_access_total{app=\"other\"} \(80 - 50 + 2)"))
        #expect(!lines.contains { $0.contains("app-50\"") })
    }

    @Test("qlik_mcp_tool_calls_total counts ok and error calls per tool")
    func toolCalls() async throws {
        let metrics = TelemetryMetrics()
        let instrumentation = ToolInstrumentation(factory: metrics.factory)
        let tool = try #require(try ToolRegistry().tool(named: "get_engine_info"))
        for _ in 0..<3 {
            _ = try await instrumentation.run(tool: tool, context: ToolContext(backend: QlikBackend(kind: "desktop", endpoint: .desktop()), sessionID: "m")) { ToolOutput(structured: [:], text: "") }
        }
        let failed = try await instrumentation.run(tool: tool, context: ToolContext(backend: QlikBackend(kind: "desktop", endpoint: .desktop()), sessionID: "m")) {
            throw ToolError(code: "X", category: .timeout, message: "m", remediation: "r")
        }
        #expect(failed.isError == true)
        let text = metrics.render()
        #expect(text.contains(#"qlik_mcp_tool_calls_total{tool="get_engine_info",toolset="apps",outcome="ok"} 3"#))
        #expect(text.contains(#"qlik_mcp_tool_calls_total{tool="get_engine_info",toolset="apps",outcome="error"} 1"#))
        #expect(text.contains(#"qlik_mcp_tool_errors_total{tool="get_engine_info",category="timeout"} 1"#))
    }
}
