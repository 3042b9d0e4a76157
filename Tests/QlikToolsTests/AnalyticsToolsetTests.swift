import DemoEngine
import Foundation
import JSONCore
import QlikTools
import Testing

/// Expected values are computed from the generated tables with plain loops.
@Suite("analytics toolset", .serialized)
struct AnalyticsToolsetTests {
    let sales = ToolsFixture.catalog.app(id: "sales-analytics")!

    /// Order lines joined to their region and category, computed independently.
    var lines: [(region: String, category: String, sales: Double, order: String)] {
        let tables = Dictionary(uniqueKeysWithValues: sales.model.tables.map { ($0.name, $0) })
        func rows(_ name: String) -> [[String: FieldValue]] {
            let t = tables[name]!
            return (0..<t.rowCount).map { r in Dictionary(uniqueKeysWithValues: t.fieldNames.enumerated().map { ($1, t.value(row: r, column: $0)) }) }
        }
        let region = Dictionary(uniqueKeysWithValues: rows("Regions").map { ($0["CountryCode"]!.text, $0["Region"]!.text) })
        let customer = Dictionary(uniqueKeysWithValues: rows("Customers").map { ($0["CustomerID"]!.text, region[$0["CountryCode"]!.text]!) })
        let category = Dictionary(uniqueKeysWithValues: rows("Products").map { ($0["ProductID"]!.text, $0["Category"]!.text) })
        return rows("OrderLines").map { (customer[$0["CustomerID"]!.text]!, category[$0["ProductID"]!.text]!, $0["Sales"]!.number!, $0["OrderID"]!.text) }
    }

    @Test("list and get master measures and dimensions")
    func masterItems() async throws {
        let (measures, _, _) = try await ToolsFixture.call("list_measures", ["app_id": "sales-analytics"])
        #expect(Set(measures["items"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []) == Set(sales.measures.map(\.id)))
        let (kpis, _, _) = try await ToolsFixture.call("list_measures", ["app_id": "sales-analytics", "tag": "kpi"])
        #expect(kpis["total"]?.intValue == sales.measures.filter { $0.tags.contains("kpi") }.count)
        let (measure, text, _) = try await ToolsFixture.call("get_measure", ["app_id": "sales-analytics", "measure": "Total Sales"])
        #expect(measure["measure"]?["expression"]?.stringValue == "Sum(Sales)")
        #expect(Set(measure["used_by"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []) == ["kpi-sales", "bar-sales-region", "table-top-customers"])
        #expect(text.contains("Sum(Sales)"))
        let (dimension, _, _) = try await ToolsFixture.call("get_dimension", ["app_id": "sales-analytics", "dimension": "d-region"])
        #expect(dimension["dimension"]?["fields"]?.arrayValue == ["Region"])
        let (missing, _, failed) = try await ToolsFixture.call("get_measure", ["app_id": "sales-analytics", "measure": "m-total-sale"])
        #expect(failed && missing["error"]?["remediation"]?.stringValue == "did you mean 'm-total-sales'?")
        let (dimensions, _, _) = try await ToolsFixture.call("list_dimensions", ["app_id": "sales-analytics", "search": "product"])
        #expect(Set(dimensions["items"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []) == Set(["d-category", "d-product"]))
    }

    @Test("evaluate_expression with and without one-off filters; check_expression")
    func expressions() async throws {
        let all = lines
        let total = all.reduce(0) { $0 + $1.sales }
        let europe = all.filter { $0.region == "Europe" }.reduce(0) { $0 + $1.sales }
        let (plain, _, _) = try await ToolsFixture.call("evaluate_expression", ["app_id": "sales-analytics", "expression": "Sum(Sales)"], session: "eval")
        #expect(abs((plain["number"]?.doubleValue ?? 0) - total) < 0.01)
        let (filtered, _, _) = try await ToolsFixture.call(
            "evaluate_expression",
            [
                "app_id": "sales-analytics", "expression": "Sum(Sales)",
                "filters": ["Region": ["Europe"]],
            ], session: "eval")
        #expect(abs((filtered["number"]?.doubleValue ?? 0) - europe) < 0.01)
        // One-off filters leave the session's own state alone.
        let (after, _, _) = try await ToolsFixture.call("evaluate_expression", ["app_id": "sales-analytics", "expression": "Sum(Sales)"], session: "eval")
        #expect(after["number"] == plain["number"])
        let (bad, _, failed) = try await ToolsFixture.call("evaluate_expression", ["app_id": "sales-analytics", "expression": "Rank(Sales)"])
        #expect(failed && bad["error"]?["category"]?.stringValue == "unsupported")
        let (badFilter, _, failed2) = try await ToolsFixture.call(
            "evaluate_expression",
            [
                "app_id": "sales-analytics", "expression": "Sum(Sales)",
                "filters": ["Regon": ["Europe"]],
            ])
        #expect(failed2 && badFilter["error"]?["remediation"]?.stringValue == "did you mean 'Region'?")
        let (check, _, _) = try await ToolsFixture.call("check_expression", ["app_id": "sales-analytics", "expression": "Sum(Sale) + Sum(Cost)"])
        #expect(check["valid"] == false)
        #expect(check["unknown_fields"]?[0]?["name"]?.stringValue == "Sale" && check["unknown_fields"]?[0]?["suggestion"]?.stringValue == "Sales")
        let (ok, _, _) = try await ToolsFixture.call("check_expression", ["app_id": "sales-analytics", "expression": "Sum(Sales)"])
        #expect(ok["valid"] == true)
    }

    @Test("query_data: groups, master items, sorting, paging, totals, filters")
    func queryData() async throws {
        let all = lines
        let byRegion = Dictionary(grouping: all, by: \.region).mapValues { rows in (rows.reduce(0) { $0 + $1.sales }, Set(rows.map(\.order)).count) }
        let (result, _, failed) = try await ToolsFixture.call(
            "query_data",
            [
                "app_id": "sales-analytics", "dimensions": ["d-region"], "measures": ["Sum(Sales)", "m-order-count"],
                "sort": [["column": "Sum(Sales)", "descending": true]],
            ])
        #expect(!failed)
        let rows = try #require(result["rows"]?.arrayValue)
        #expect(rows.count == byRegion.count)
        let expectedOrder = byRegion.sorted { $0.value.0 > $1.value.0 }.map(\.key)
        #expect(rows.compactMap { $0[0]?.stringValue } == expectedOrder)
        for row in rows {
            let region = row[0]!.stringValue!
            #expect(abs((row[1]?.doubleValue ?? 0) - byRegion[region]!.0) < 0.01)
            #expect(row[2]?.intValue == byRegion[region]!.1)
        }
        #expect(abs((result["totals"]?[0]?.doubleValue ?? 0) - all.reduce(0) { $0 + $1.sales }) < 0.01)
        #expect(result["totals"]?[1]?.intValue == Set(all.map(\.order)).count)
        // Paging through Region × Category.
        let pairs = Set(all.map { "\($0.region)|\($0.category)" })
        var seen: [String] = []
        var cursor: JSONValue = .null
        repeat {
            var arguments: [String: JSONValue] = ["app_id": "sales-analytics", "dimensions": ["Region", "Category"], "measures": ["Sum(Sales)"], "limit": 5]
            if cursor != .null { arguments["cursor"] = cursor }
            let (page, _, _) = try await ToolsFixture.call("query_data", .object(arguments))
            #expect(page["total_rows"]?.intValue == pairs.count)
            seen += (page["rows"]?.arrayValue ?? []).map { "\($0[0]!.stringValue!)|\($0[1]!.stringValue!)" }
            cursor = page["next_cursor"] ?? .null
        } while cursor != .null
        #expect(Set(seen) == pairs && seen.count == pairs.count)
        // Filters.
        let (bikes, _, _) = try await ToolsFixture.call(
            "query_data",
            [
                "app_id": "sales-analytics", "dimensions": ["Region"], "measures": ["Sum(Sales)"], "filters": ["Category": ["Bikes"]],
            ])
        for row in bikes["rows"]?.arrayValue ?? [] {
            let region = row[0]!.stringValue!
            let expected = all.filter { $0.region == region && $0.category == "Bikes" }.reduce(0) { $0 + $1.sales }
            #expect(abs((row[1]?.doubleValue ?? 0) - expected) < 0.01)
        }
        await #expect { try await ToolsFixture.call("query_data", ["app_id": "sales-analytics"]) } throws: { ($0 as? ArgumentError)?.field == "dimensions" }
        await #expect { try await ToolsFixture.call("query_data", ["app_id": "sales-analytics", "dimensions": ["Region"], "sort": [["column": "Nope"]]]) } throws: {
            ($0 as? ArgumentError)?.field == "sort"
        }
        let (unknown, _, failed2) = try await ToolsFixture.call("query_data", ["app_id": "sales-analytics", "dimensions": ["Regin"]])
        #expect(failed2 && unknown["error"]?["category"]?.stringValue == "not_found")
    }

    @Test("selections persist within a session and never leak into another")
    func selectionIsolation() async throws {
        let all = lines
        let europe = all.filter { $0.region == "Europe" }.reduce(0) { $0 + $1.sales }
        let total = all.reduce(0) { $0 + $1.sales }
        let (selected, text, _) = try await ToolsFixture.call("select_values", ["app_id": "sales-analytics", "field": "Region", "values": ["Europe"]], session: "alice")
        #expect(selected["selections"]?[0]?["field"]?.stringValue == "Region" && selected["selections"]?[0]?["values"] == ["Europe"])
        #expect(text.contains("Region: Europe"))
        async let alice = ToolsFixture.call("evaluate_expression", ["app_id": "sales-analytics", "expression": "Sum(Sales)"], session: "alice")
        async let bob = ToolsFixture.call("evaluate_expression", ["app_id": "sales-analytics", "expression": "Sum(Sales)"], session: "bob")
        let (a, b) = try await (alice, bob)
        #expect(abs((a.0["number"]?.doubleValue ?? 0) - europe) < 0.01)
        #expect(abs((b.0["number"]?.doubleValue ?? 0) - total) < 0.01)
        let (current, _, _) = try await ToolsFixture.call("get_current_selections", ["app_id": "sales-analytics"], session: "alice")
        #expect(current["selections"]?.arrayValue?.count == 1)
        let (bobs, _, _) = try await ToolsFixture.call("get_current_selections", ["app_id": "sales-analytics"], session: "bob")
        #expect(bobs["selections"]?.arrayValue?.isEmpty == true)
        let (values, _, _) = try await ToolsFixture.call("get_field_values", ["app_id": "sales-analytics", "field": "Region"], session: "alice")
        #expect(values["values"]?.arrayValue?.first { $0["text"] == "Europe" }?["state"]?.stringValue == "selected")
        let (cleared, _, _) = try await ToolsFixture.call("clear_selections", ["app_id": "sales-analytics"], session: "alice")
        #expect(cleared["selections"]?.arrayValue?.isEmpty == true)
        let (missing, _, failed) = try await ToolsFixture.call("select_values", ["app_id": "sales-analytics", "field": "Region", "values": ["Atlantis"]], session: "alice")
        #expect(failed && missing["error"]?["category"]?.stringValue == "not_found")
    }
}
