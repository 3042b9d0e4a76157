import Foundation
import MCP
import QIXWire
import QlikTools
import Testing

@Suite("dynamic mode and read-only mode")
struct DynamicModeTests {
    func session(dynamic: Bool, filter: ToolRegistry.Filter = .init()) async throws -> ToolSession {
        ToolSession(registry: try ToolRegistry(filter: filter), dynamic: dynamic,
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
