import DemoEngine
import Foundation
import JSONCore
import MCP
import QlikTools
import Testing

@Suite("resources and prompts")
struct ResourcesAndPromptsTests {
    let sales = ToolsFixture.catalog.app(id: "sales-analytics")!

    func read(_ uri: String) async throws -> Resource.Content {
        let contents = try await ResourceCatalog().read(uri, context: ToolContext(backend: await ToolsFixture.backend(), sessionID: "resources"))
        return try #require(contents.first)
    }

    @Test("every resource reads the same data as its tool")
    func resources() async throws {
        let apps = try JSONCoding.parse(try #require(try await read("qlik://apps").text))
        #expect(Set(apps["apps"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []) == Set(ToolsFixture.catalog.apps.map(\.id)))
        let app = try JSONCoding.parse(try #require(try await read("qlik://apps/sales-analytics").text))
        #expect(app["counts"]?["measures"]?.intValue == sales.measures.count)
        let script = try await read("qlik://apps/sales-analytics/script")
        #expect(script.text == sales.script && script.mimeType == "text/plain")
        let model = try JSONCoding.parse(try #require(try await read("qlik://apps/sales-analytics/data-model").text))
        #expect(model["tables"]?.arrayValue?.count == sales.model.tables.count)
        let items = try JSONCoding.parse(try #require(try await read("qlik://apps/sales-analytics/master-items").text))
        #expect(items["measures"]?.arrayValue?.count == sales.measures.count && items["dimensions"]?.arrayValue?.count == sales.dimensions.count)
        #expect(ResourceCatalog.templates.count == 4)
    }

    @Test("bad resource URIs and unknown apps fail clearly")
    func badResources() async throws {
        for uri in ["http://x", "qlik://apps/sales-analytics/nope", "qlik://apps//script", "qlik://apps/a/b/c"] {
            await #expect(throws: ArgumentError.self, "\(uri)") { _ = try await read(uri) }
        }
        await #expect { _ = try await read("qlik://apps/sales-analytic/script") } throws: { error in
            (error as? ToolError)?.category == .notFound && (error as? ToolError)?.remediation == "did you mean 'sales-analytics'?"
        }
    }

    @Test("prompts fill in their arguments and require them")
    func prompts() throws {
        #expect(PromptCatalog.prompts.map(\.name) == ["explore_app", "explain_measure", "data_quality_report"])
        let explain = try PromptCatalog.get("explain_measure", arguments: ["app_id": "sales-analytics", "measure": "Total Sales"])
        guard case .text(let text) = explain.messages.first?.content else { Issue.record("no text message"); return }
        #expect(text.contains("\"Total Sales\"") && text.contains("\"sales-analytics\"") && text.contains("get_measure"))
        #expect(throws: ArgumentError.self) { try PromptCatalog.get("explain_measure", arguments: ["app_id": "sales-analytics"]) }
        #expect(throws: ArgumentError.self) { try PromptCatalog.get("nope", arguments: [:]) }
        let report = try PromptCatalog.get("data_quality_report", arguments: ["app_id": "hr-insights", "table": "Employees"])
        #expect(report.messages.count == 1)
    }
}
