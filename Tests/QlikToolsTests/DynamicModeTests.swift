import Foundation
import JSONCore
import MCP
import QlikTools
import Testing

@Suite("dynamic mode and read-only mode")
struct DynamicModeTests {
    func session(dynamic: Bool, filter: ToolRegistry.Filter = .init()) async throws -> ToolSession {
        ToolSession(
            registry: try ToolRegistry(filter: filter), dynamic: dynamic,
            context: ToolContext(backend: await ToolsFixture.backend(), sessionID: "dynamic-\(UUID().uuidString)"))
    }

    @Test("only discovery tools until a toolset is enabled; enabling changes the list once")
    func dynamic() async throws {
        let tools = try await session(dynamic: true)
        #expect(await tools.definitions.map(\.name) == ["list_toolsets", "get_toolset_tools", "enable_toolset"])
        let (listed, changed) = try await tools.call("list_toolsets", arguments: [:])
        #expect(!changed)
        let names = ValueBridge.json(try #require(listed.structuredContent))["toolsets"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
        #expect(names == ["apps", "data_model", "analytics", "visualization", "governance"])
        let (preview, _) = try await tools.call("get_toolset_tools", arguments: ["toolset": "apps"])
        #expect(ValueBridge.json(try #require(preview.structuredContent))["tools"]?.arrayValue?.count == 4)
        await #expect { try await tools.call("list_apps", arguments: [:]) } throws: {
            ($0 as? ArgumentError)?.message.contains("enable_toolset") ?? false
        }
        let (enabled, didChange) = try await tools.call("enable_toolset", arguments: ["toolset": "apps"])
        #expect(didChange && enabled.isError != true)
        #expect(await tools.definitions.count == 3 + 4)
        let (_, again) = try await tools.call("enable_toolset", arguments: ["toolset": "apps"])
        #expect(!again)
        let (apps, _) = try await tools.call("list_apps", arguments: [:])
        #expect(apps.isError != true)
        let (unknown, _) = try await tools.call("enable_toolset", arguments: ["toolset": "app"])
        #expect(unknown.isError == true)
        #expect(ValueBridge.json(try #require(unknown.structuredContent))["error"]?["remediation"]?.stringValue == "did you mean 'apps'?")
    }

    @Test("static mode lists everything; read-only mode hides write tools; filters apply in dynamic mode too")
    func modes() async throws {
        let all = try await session(dynamic: false)
        #expect(await all.definitions.count == (try ToolRegistry()).tools.count)
        let filtered = try await session(dynamic: true, filter: .init(toolsets: ["analytics"]))
        let (listed, _) = try await filtered.call("list_toolsets", arguments: [:])
        #expect(ValueBridge.json(try #require(listed.structuredContent))["toolsets"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["analytics"])
        let readOnly = try ToolRegistry(filter: .init(readOnly: true))
        #expect(readOnly.definitions.allSatisfy { $0.annotations.readOnlyHint == true })
    }
}

@Suite("scopes of the caller")
struct ScopeFilterTests {
    @Test("tools/list shows what the scopes allow; calls outside them are refused; a change of scopes is reported")
    func scopes() async throws {
        let tools = ToolSession(
            registry: try ToolRegistry(), dynamic: false,
            context: ToolContext(backend: await ToolsFixture.backend(), sessionID: "scopes-\(UUID().uuidString)"))
        #expect(await tools.restrict(to: [.read]))
        #expect(await !tools.restrict(to: [.read]))
        let names = Set(await tools.definitions.map(\.name))
        #expect(names.contains("list_apps") && names.contains("get_script"))
        #expect(names.isDisjoint(with: ["query_data", "evaluate_expression", "reload_app", "list_reload_tasks"]))
        #expect(names.allSatisfy { ToolScopes.required(for: $0) == .read })
        await #expect { try await tools.call("evaluate_expression", arguments: ["app_id": "sales-analytics", "expression": "1"]) } throws: {
            ($0 as? ToolError)?.code == "INSUFFICIENT_SCOPE"
        }
        #expect(await tools.restrict(to: [.read, .data, .write, .admin]))
        #expect(await tools.definitions.count == (try ToolRegistry()).tools.count)
        let (answer, _) = try await tools.call("evaluate_expression", arguments: ["app_id": "sales-analytics", "expression": "1+1"])
        #expect(answer.isError != true)
    }
}

@Suite("deprecated aliases")
struct DeprecatedAliasTests {
    static let renamed = QlikTool(
        name: "describe_engine", title: "Engine", description: "Engine information.", toolset: "fixture",
        input: .object("No arguments.", properties: []), output: .object("Out.", properties: [("answer", .string("A."))], required: ["answer"]),
        version: "2.0.0", deprecatedNames: ["engine_info"]
    ) { _, _ in ToolOutput(structured: ["answer": "42"], text: "42") }

    @Test("a renamed tool keeps its old name for one version: listed after it, flagged, callable, disable-able")
    func alias() async throws {
        let registry = try ToolRegistry(toolsets: [Toolset(name: "fixture", description: "F.", tools: [Self.renamed])])
        #expect(registry.tools.map(\.name) == ["describe_engine", "engine_info"])
        let definition = try #require(registry.definitions.last)
        #expect(definition.description?.hasPrefix("DEPRECATED: renamed to describe_engine in version 2.0.0") == true)
        #expect(definition._meta?.fields["deprecated"] == .bool(true) && definition._meta?.fields["replacedBy"] == .string("describe_engine"))
        #expect(registry.definitions.first?._meta?.fields["deprecated"] == .bool(false))
        let result = try await registry.call("engine_info", arguments: [:], context: ToolContext(backend: await ToolsFixture.backend(), sessionID: "alias"))
        #expect(ValueBridge.json(try #require(result.structuredContent))["answer"] == "42")
        let without = try ToolRegistry(toolsets: [Toolset(name: "fixture", description: "F.", tools: [Self.renamed])], filter: .init(disabledTools: ["engine_info"]))
        #expect(without.tools.map(\.name) == ["describe_engine"])
    }
}
