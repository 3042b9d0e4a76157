import DemoEngine
import Foundation
import JSONCore
import QlikTools
import Testing

@Suite("visualization toolset", .serialized)
struct VisualizationToolsetTests {
    let sales = ToolsFixture.catalog.app(id: "sales-analytics")!

    @Test("list_sheets and get_sheet follow the app's sheets and cells")
    func sheets() async throws {
        let (list, _, _) = try await ToolsFixture.call("list_sheets", ["app_id": "sales-analytics"])
        let expected = sales.sheets.sorted { ($0.properties["rank"]?.doubleValue ?? 0) < ($1.properties["rank"]?.doubleValue ?? 0) }
        #expect(list["sheets"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == expected.map(\.id))
        #expect(list["sheets"]?.arrayValue?.compactMap { $0["object_count"]?.intValue } == expected.map(\.children.count))
        let overview = expected[0]
        let (sheet, text, _) = try await ToolsFixture.call("get_sheet", ["app_id": "sales-analytics", "sheet_id": .string(overview.id)])
        #expect(sheet["objects"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == overview.children)
        let bar = sheet["objects"]?.arrayValue?.first { $0["id"]?.stringValue == "bar-sales-region" }
        #expect(bar?["title"]?.stringValue == "Sales by Region" && bar?["type"]?.stringValue == "barchart")
        #expect(bar?["colspan"]?.intValue == 16)
        #expect(text.contains("Sales by Region"))
        let (notSheet, _, failed) = try await ToolsFixture.call("get_sheet", ["app_id": "sales-analytics", "sheet_id": "bar-sales-region"])
        #expect(failed && notSheet["error"]?["code"]?.stringValue == "NOT_A_SHEET")
        let (missing, _, failed2) = try await ToolsFixture.call("get_sheet", ["app_id": "sales-analytics", "sheet_id": "sheet-overveiw"])
        #expect(failed2 && missing["error"]?["remediation"]?.stringValue == "did you mean 'sheet-overview'?")
    }

    @Test("get_object resolves master items; get_object_data pages the object's data under the session's selections")
    func objects() async throws {
        let (object, _, _) = try await ToolsFixture.call("get_object", ["app_id": "sales-analytics", "object_id": "bar-sales-region"])
        #expect(object["type"]?.stringValue == "barchart")
        #expect(object["dimensions"]?[0]?["field"]?.stringValue == "Region" && object["dimensions"]?[0]?["master_id"]?.stringValue == "d-region")
        #expect(object["measures"]?[0]?["expression"]?.stringValue == "Sum(Sales)")
        let (data, _, _) = try await ToolsFixture.call("get_object_data", ["app_id": "sales-analytics", "object_id": "bar-sales-region"], session: "viz")
        #expect(data["total_rows"]?.intValue == Set(sales.model.field(named: "Region")!.values.map(\.text)).count)
        let values = data["rows"]?.arrayValue?.compactMap { $0[1]?.doubleValue } ?? []
        #expect(values == values.sorted(by: >), "the chart sorts by the measure, descending")
        _ = try await ToolsFixture.call("select_values", ["app_id": "sales-analytics", "field": "Region", "values": ["Europe"]], session: "viz")
        let (selected, _, _) = try await ToolsFixture.call("get_object_data", ["app_id": "sales-analytics", "object_id": "bar-sales-region"], session: "viz")
        #expect(selected["rows"]?.arrayValue?.compactMap { $0[0]?.stringValue } == ["Europe"])
        let (paged, _, _) = try await ToolsFixture.call("get_object_data", ["app_id": "sales-analytics", "object_id": "line-sales-month", "limit": 5])
        #expect(paged["rows"]?.arrayValue?.count == 5 && paged["next_cursor"]?.stringValue != nil)
        let (sheetData, _, failed) = try await ToolsFixture.call("get_object_data", ["app_id": "sales-analytics", "object_id": "sheet-overview"])
        #expect(failed && sheetData["error"]?["category"]?.stringValue == "unsupported")
    }

    @Test("list_bookmarks and apply_bookmark")
    func bookmarks() async throws {
        let (list, _, _) = try await ToolsFixture.call("list_bookmarks", ["app_id": "sales-analytics"])
        #expect(Set(list["bookmarks"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []) == Set(sales.bookmarks.map(\.id)))
        let (applied, _, failed) = try await ToolsFixture.call("apply_bookmark", ["app_id": "sales-analytics", "bookmark_id": "Europe 2025"], session: "bm")
        #expect(!failed)
        let selections = Dictionary(uniqueKeysWithValues: (applied["selections"]?.arrayValue ?? []).map { ($0["field"]!.stringValue!, $0["values"]!) })
        #expect(selections == ["Region": ["Europe"], "Year": ["2025"]])
        let (missing, _, failed2) = try await ToolsFixture.call("apply_bookmark", ["app_id": "sales-analytics", "bookmark_id": "bm-bike"], session: "bm")
        #expect(failed2 && missing["error"]?["remediation"]?.stringValue == "did you mean 'bm-bikes'?")
    }
}
