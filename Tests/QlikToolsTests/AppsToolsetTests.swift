import DemoEngine
import Foundation
import JSONCore
import QlikTools
import Testing
import ToolCache

@Suite("apps toolset")
struct AppsToolsetTests {
    @Test("list_apps: all apps sorted by name, search, stream filter, paging")
    func listApps() async throws {
        let expected = ToolsFixture.catalog.apps.map(\.title).sorted()
        let (all, text, failed) = try await ToolsFixture.call("list_apps")
        #expect(!failed)
        #expect(all["apps"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == expected)
        #expect(all["total"]?.intValue == ToolsFixture.catalog.apps.count)
        #expect(all["next_cursor"] == nil)
        #expect(text.contains("| sales-analytics"))
        let (search, _, _) = try await ToolsFixture.call("list_apps", ["search": "SALES"])
        #expect(search["apps"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == ["sales-analytics"])
        let (stream, _, _) = try await ToolsFixture.call("list_apps", ["stream": "Human Resources"])
        #expect(stream["apps"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == ["hr-insights"])
        let (first, _, _) = try await ToolsFixture.call("list_apps", ["limit": 1])
        let cursor = try #require(first["next_cursor"]?.stringValue)
        let (second, _, _) = try await ToolsFixture.call("list_apps", ["limit": 1, "cursor": .string(cursor)])
        #expect((first["apps"]?[0]?["name"]?.stringValue, second["apps"]?[0]?["name"]?.stringValue) == (expected[0], expected[1]))
        #expect(second["next_cursor"] == nil)
    }

    @Test("get_app: counts match the sample app")
    func getApp() async throws {
        let app = try #require(ToolsFixture.catalog.app(id: "sales-analytics"))
        let (result, text, failed) = try await ToolsFixture.call("get_app", ["app_id": "sales-analytics"])
        #expect(!failed)
        let counts = try #require(result["counts"])
        #expect(counts["tables"]?.intValue == app.model.tables.count)
        #expect(counts["fields"]?.intValue == Set(app.model.tables.flatMap(\.fieldNames)).count)
        #expect(counts["rows"]?.intValue == app.model.tables.reduce(0) { $0 + $1.rowCount })
        #expect(counts["measures"]?.intValue == app.measures.count)
        #expect(counts["dimensions"]?.intValue == app.dimensions.count)
        #expect(counts["sheets"]?.intValue == app.sheets.count)
        #expect(counts["variables"]?.intValue == app.variables.count)
        #expect(result["title"]?.stringValue == app.title)
        #expect(result["stream"]?.stringValue == app.stream)
        #expect(text.contains("\(app.model.tables.count) tables"))
    }

    @Test("get_app on an unknown app is a not_found failure with a suggestion")
    func unknownApp() async throws {
        let (result, text, failed) = try await ToolsFixture.call("get_app", ["app_id": "sales-analytic"])
        #expect(failed)
        #expect(result["error"]?["category"]?.stringValue == "not_found")
        #expect(result["error"]?["remediation"]?.stringValue == "did you mean 'sales-analytics'?")
        #expect(result["error"]?["retryable"]?.boolValue == false)
        #expect(text.contains("not found"))
    }

    @Test("list_streams and get_engine_info")
    func streamsAndEngine() async throws {
        let (streams, _, _) = try await ToolsFixture.call("list_streams")
        let expected = Dictionary(grouping: ToolsFixture.catalog.apps, by: \.stream).mapValues(\.count)
        let got = Dictionary(uniqueKeysWithValues: (streams["streams"]?.arrayValue ?? []).map { ($0["name"]!.stringValue!, $0["app_count"]!.intValue!) })
        #expect(got == expected)
        let (engine, text, failed) = try await ToolsFixture.call("get_engine_info")
        #expect(!failed)
        #expect(engine["backend"]?.stringValue == "demo")
        #expect(engine["engine_version"]?.stringValue == "12.2027.0")
        #expect(engine["authenticated_user"]?.stringValue == "UserDirectory=DEMO; UserId=demo")
        #expect(text.contains("12.2027.0"))
    }

    static let badCases: [(String, JSONValue, String)] = [
        ("list_apps", .object(["limit": .number(0)]), "limit"),
        ("list_apps", .object(["limit": .string("ten")]), "limit"),
        ("list_apps", .object(["limit": .number(2.5)]), "limit"),
        ("list_apps", .object(["cursor": .string("garbage")]), "cursor"),
        ("list_apps", .object(["search": .string(String(repeating: "x", count: 201))]), "search"),
        ("list_apps", .object(["colour": .string("red")]), "colour"),
        ("get_app", .object([:]), "app_id"),
        ("get_app", .object(["app_id": .number(42)]), "app_id"),
        ("list_apps", .string("not an object"), "arguments"),
        ("no_such_tool", .object([:]), "name"),
    ]

    @Test("bad arguments are protocol errors naming the field", arguments: badCases)
    func badArguments(tool: String, arguments: JSONValue, field: String) async throws {
        await #expect { try await ToolsFixture.call(tool, arguments) } throws: { error in
            (error as? ArgumentError)?.field == field
        }
    }
}

@Suite("tool registry")
struct ToolRegistryTests {
    @Test("every tool has a title, a description, schemas and a version; names are unique snake_case")
    func surface() throws {
        let registry = try ToolRegistry()
        let names = registry.tools.map(\.name)
        #expect(Set(names).count == names.count)
        for tool in registry.tools {
            #expect(tool.name.range(of: "^[a-z][a-z0-9_]*$", options: .regularExpression) != nil)
            #expect(!tool.title.isEmpty && tool.description.count > 40)
            #expect(tool.input.json["type"] == "object" && tool.output.json["type"] == "object")
        }
        #expect(registry.definitions.count == registry.tools.count)
    }

    @Test("toolset and tool filters; unknown names are refused")
    func filters() throws {
        let registry = try ToolRegistry(filter: .init(toolsets: ["apps"], disabledTools: ["list_streams"]))
        #expect(registry.tool(named: "list_streams") == nil)
        #expect(registry.tool(named: "list_apps") != nil)
        #expect(throws: ArgumentError.self) { try ToolRegistry(filter: .init(toolsets: ["nope"])) }
        #expect(throws: ArgumentError.self) { try ToolRegistry(filter: .init(disabledTools: ["nope"])) }
        let readOnly = try ToolRegistry(filter: .init(readOnly: true))
        let allReadOnly = readOnly.tools.allSatisfy { $0.readOnly }
        #expect(allReadOnly)
    }
}

@Suite("README tool catalogue")
struct ToolCatalogueTests {
    @Test("README's table is the one the code generates (scripts/update-tool-catalogue)")
    func readme() throws {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        let start = try #require(text.range(of: "<!-- tools:begin -->\n"))
        let end = try #require(text.range(of: "<!-- tools:end -->"))
        try #require(start.upperBound <= end.lowerBound)
        #expect(String(text[start.upperBound..<end.lowerBound]) == ToolCatalogue.markdown(try ToolRegistry(toolsets: StandardToolsets.all + [CacheAdminTools.toolset(nil)]).tools) + "\n")
    }
}
