import DemoEngine
import JSONCore
import QlikTools
import Testing

/// Expected values come from the generated tables (`DemoAppCatalog`), not from the tools.
@Suite("data_model toolset")
struct DataModelToolsetTests {
    let sales = ToolsFixture.catalog.app(id: "sales-analytics")!

    func column(_ table: String, _ field: String) -> [FieldValue] {
        let t = sales.model.tables.first { $0.name == table }!
        let c = t.columnIndex(of: field)!
        return (0..<t.rowCount).map { t.value(row: $0, column: c) }
    }

    @Test("get_data_model: tables, row counts, keys and associations")
    func dataModel() async throws {
        let (result, text, failed) = try await ToolsFixture.call("get_data_model", ["app_id": "sales-analytics"])
        #expect(!failed)
        let tables = try #require(result["tables"]?.arrayValue)
        let expectedRows = Dictionary(uniqueKeysWithValues: sales.model.tables.map { ($0.name, $0.rowCount) })
        #expect(Dictionary(uniqueKeysWithValues: tables.map { ($0["name"]!.stringValue!, $0["rows"]!.intValue!) }) == expectedRows)
        var links: [String: Set<String>] = [:]
        for table in sales.model.tables { for field in table.fieldNames { links[field, default: []].insert(table.name) } }
        let expectedKeys = links.filter { $0.value.count > 1 }
        let associations = try #require(result["associations"]?.arrayValue)
        #expect(Dictionary(uniqueKeysWithValues: associations.map { ($0["field"]!.stringValue!, Set($0["tables"]!.arrayValue!.compactMap(\.stringValue))) }) == expectedKeys)
        #expect(result["has_synthetic_keys"] == false)
        let customers = tables.first { $0["name"]?.stringValue == "Customers" }
        #expect(customers?["fields"]?.arrayValue?.first { $0["name"]?.stringValue == "CustomerID" }?["key_type"]?.stringValue == "PRIMARY_KEY")
        #expect(text.contains("OrderLines — 120000 rows"))
    }

    @Test("list_fields: all fields, table filter, search, unknown table")
    func listFields() async throws {
        let allFields = Set(sales.model.tables.flatMap(\.fieldNames))
        let (all, _, _) = try await ToolsFixture.call("list_fields", ["app_id": "sales-analytics", "limit": 500])
        #expect(all["total"]?.intValue == allFields.count)
        #expect(Set(all["fields"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []) == allFields)
        let (regions, _, _) = try await ToolsFixture.call("list_fields", ["app_id": "sales-analytics", "table": "Regions"])
        #expect(Set(regions["fields"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []) == Set(["CountryCode", "Country", "Region"]))
        let country = regions["fields"]?.arrayValue?.first { $0["name"]?.stringValue == "CountryCode" }
        #expect(country?["is_key"] == true && country?["cardinality"]?.intValue == Set(column("Regions", "CountryCode")).count)
        let (search, _, _) = try await ToolsFixture.call("list_fields", ["app_id": "sales-analytics", "search": "id"])
        #expect(search["total"]?.intValue == allFields.filter { $0.lowercased().contains("id") }.count)
        let (missing, _, failed) = try await ToolsFixture.call("list_fields", ["app_id": "sales-analytics", "table": "Region"])
        #expect(failed && missing["error"]?["remediation"]?.stringValue == "did you mean 'Regions'?")
    }

    @Test("get_field_values: frequencies and states follow the session's selections")
    func fieldValues() async throws {
        let regions = column("Regions", "Region").map(\.text)
        let frequency = Dictionary(grouping: regions, by: { $0 }).mapValues(\.count)
        let (result, _, failed) = try await ToolsFixture.call("get_field_values", ["app_id": "sales-analytics", "field": "Region"], session: "values-1")
        #expect(!failed)
        let values = try #require(result["values"]?.arrayValue)
        #expect(Dictionary(uniqueKeysWithValues: values.map { ($0["text"]!.stringValue!, $0["frequency"]!.intValue!) }) == frequency)
        #expect(values.allSatisfy { $0["state"]?.stringValue == "possible" })
        let (search, _, _) = try await ToolsFixture.call("get_field_values", ["app_id": "sales-analytics", "field": "Country", "search": "united"])
        #expect(Set(search["values"]?.arrayValue?.compactMap { $0["text"]?.stringValue } ?? []) == ["United States", "United Kingdom", "United Arab Emirates"])
        let (paged, _, _) = try await ToolsFixture.call("get_field_values", ["app_id": "sales-analytics", "field": "CustomerID", "limit": 1000])
        #expect(paged["total"]?.intValue == Set(column("Customers", "CustomerID")).count)
        #expect(paged["next_cursor"]?.stringValue != nil)
        let (typo, _, failed2) = try await ToolsFixture.call("get_field_values", ["app_id": "sales-analytics", "field": "Regon"])
        #expect(failed2 && typo["error"]?["remediation"]?.stringValue == "did you mean 'Region'?")
    }

    @Test("get_field_statistics: counts, numeric summary and top values")
    func statistics() async throws {
        let quantities = column("OrderLines", "Quantity").map { $0.number! }
        let (result, _, failed) = try await ToolsFixture.call("get_field_statistics", ["app_id": "sales-analytics", "field": "Quantity"])
        #expect(!failed)
        #expect(result["count"]?.intValue == quantities.count)
        #expect(result["distinct"]?.intValue == Set(quantities).count)
        #expect(result["nulls"]?.intValue == 0)
        #expect(result["numeric"] == true)
        #expect(result["min"]?.doubleValue == quantities.min() && result["max"]?.doubleValue == quantities.max())
        let avg = quantities.reduce(0, +) / Double(quantities.count)
        #expect(abs((result["avg"]?.doubleValue ?? 0) - avg) < 1e-9)
        let top = try #require(result["top_values"]?.arrayValue?.first)
        let counts = Dictionary(grouping: quantities, by: { $0 }).mapValues(\.count)
        #expect(top["frequency"]?.intValue == counts.values.max())
        let (text, _, _) = try await ToolsFixture.call("get_field_statistics", ["app_id": "sales-analytics", "field": "Segment"])
        #expect(text["numeric"] == false && text["min"] == nil && text["distinct"]?.intValue == Set(column("Customers", "Segment").map(\.text)).count)
    }

    @Test("preview_table and search_values")
    func previewAndSearch() async throws {
        let (preview, text, failed) = try await ToolsFixture.call("preview_table", ["app_id": "sales-analytics", "table": "Regions", "rows": 3])
        #expect(!failed)
        let table = sales.model.tables.first { $0.name == "Regions" }!
        #expect(preview["columns"]?.arrayValue?.compactMap(\.stringValue) == table.fieldNames)
        let expectedRows: [JSONValue] = (0..<3).map { row in .array((0..<table.fieldNames.count).map { .string(table.value(row: row, column: $0).text) }) }
        #expect(preview["rows"]?.arrayValue == expectedRows)
        #expect(text.contains("CountryCode"))
        let (search, _, _) = try await ToolsFixture.call("search_values", ["app_id": "sales-analytics", "text": "euro", "fields": ["Region", "Country", "Segment"]])
        #expect(search["matches"]?.arrayValue?.map { "\($0["field"]!.stringValue!)=\($0["value"]!.stringValue!)" } == ["Region=Europe"])
        let (limited, _, _) = try await ToolsFixture.call("search_values", ["app_id": "sales-analytics", "text": "a", "fields": ["Country"], "limit": 2])
        #expect(limited["matches"]?.arrayValue?.count == 2 && limited["truncated"] == true)
        await #expect { try await ToolsFixture.call("search_values", ["app_id": "sales-analytics", "text": "  "]) } throws: {
            ($0 as? ArgumentError)?.field == "text"
        }
    }
}
