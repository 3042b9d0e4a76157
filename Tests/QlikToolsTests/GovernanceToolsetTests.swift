import DemoEngine
import Foundation
import JSONCore
import QlikTools
import Testing

@Suite("governance toolset")
struct GovernanceToolsetTests {
    let sales = ToolsFixture.catalog.app(id: "sales-analytics")!

    @Test("get_script: sections, one section, unknown section")
    func script() async throws {
        let expectedSections = sales.script.split(separator: "\n").filter { $0.hasPrefix("///$tab ") }.map { String($0.dropFirst(8)) }
        let (whole, _, _) = try await ToolsFixture.call("get_script", ["app_id": "sales-analytics"])
        #expect(whole["sections"]?.arrayValue?.compactMap(\.stringValue) == expectedSections)
        #expect(whole["script"]?.stringValue == sales.script && whole["truncated"] == false)
        let (regions, _, _) = try await ToolsFixture.call("get_script", ["app_id": "sales-analytics", "section": "regions"])
        #expect(regions["script"]?.stringValue?.hasPrefix("Regions:") == true)
        #expect(regions["script"]?.stringValue?.contains("OrderLines") == false)
        let (missing, _, failed) = try await ToolsFixture.call("get_script", ["app_id": "sales-analytics", "section": "Order"])
        #expect(failed && missing["error"]?["remediation"]?.stringValue == "did you mean 'Orders'?")
    }

    @Test("variables: list, definition and evaluated value through nested variables")
    func variables() async throws {
        let (list, _, _) = try await ToolsFixture.call("list_variables", ["app_id": "sales-analytics"])
        #expect(Set(list["variables"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []) == Set(sales.variables.map(\.name)))
        let total = (0..<sales.model.tables[0].rowCount).reduce(0.0) { sum, row in
            sum + sales.model.tables[0].value(row: row, column: sales.model.tables[0].columnIndex(of: "Sales")!).number!
        }
        let (target, _, _) = try await ToolsFixture.call("get_variable", ["app_id": "sales-analytics", "name": "vTargetSales"])
        #expect(target["definition"]?.stringValue == "Sum(Sales) * $(vTargetFactor)")
        #expect(abs((target["value_number"]?.doubleValue ?? 0) - total * 1.1) < 0.01)
        let (factor, _, _) = try await ToolsFixture.call("get_variable", ["app_id": "sales-analytics", "name": "vTargetFactor"])
        #expect(factor["value_number"]?.doubleValue == 1.1)
        let (missing, _, failed) = try await ToolsFixture.call("get_variable", ["app_id": "sales-analytics", "name": "vTargetFactr"])
        #expect(failed && missing["error"]?["remediation"]?.stringValue == "did you mean 'vTargetFactor'?")
    }

    @Test("lineage and connections (credentials redacted)")
    func lineageAndConnections() async throws {
        let (lineage, _, _) = try await ToolsFixture.call("get_lineage", ["app_id": "sales-analytics"])
        #expect(lineage["sources"]?.arrayValue?.compactMap { $0["source"]?.stringValue } == sales.lineage.map(\.discriminator))
        let (connections, _, _) = try await ToolsFixture.call("list_connections", ["app_id": "sales-analytics"])
        #expect(Set(connections["connections"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []) == Set(sales.connections.map(\.name)))
        #expect(GovernanceToolsetRedaction.check())
    }

    @Test("find_field_usage finds master items, objects, variables and script lines")
    func fieldUsage() async throws {
        let (usage, _, failed) = try await ToolsFixture.call("find_field_usage", ["app_id": "sales-analytics", "field": "Sales"])
        #expect(!failed)
        let usages = usage["usages"]?.arrayValue ?? []
        let measures = Set(usages.filter { $0["kind"] == "measure" }.compactMap { $0["id"]?.stringValue })
        #expect(measures == Set(sales.measures.filter { $0.expression.contains("Sum(Sales)") || $0.expression.contains("} Sales)") }.map(\.id)))
        #expect(usages.contains { $0["kind"] == "variable" && $0["id"] == "vTargetSales" })
        #expect(usages.contains { $0["kind"] == "script" && $0["id"] == "Orders" })
        let (region, _, _) = try await ToolsFixture.call("find_field_usage", ["app_id": "sales-analytics", "field": "Region"])
        #expect((region["usages"]?.arrayValue ?? []).contains { $0["kind"] == "dimension" && $0["id"] == "d-region" })
        let (missing, _, failed2) = try await ToolsFixture.call("find_field_usage", ["app_id": "sales-analytics", "field": "Salez"])
        #expect(failed2 && missing["error"]?["category"]?.stringValue == "not_found")
    }
}

/// The connection-string redaction, checked on a representative string.
enum GovernanceToolsetRedaction {
    static func check() -> Bool {
        let redacted = GovernanceRedactionProbe.redact("Driver={SQL Server};Server=db;UID=sa;PWD=hunter2;Database=sales")
        return !redacted.contains("hunter2") && !redacted.contains("sa;") && redacted.contains("Server=db")
    }
}
