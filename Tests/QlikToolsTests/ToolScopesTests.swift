import Testing
import ToolCache

@testable import QlikTools

@Suite("Tool scopes")
struct ToolScopesTests {
    @Test("every tool, including the discovery tools, has a scope; the table names no tool that does not exist")
    func everyToolHasAScope() throws {
        let names =
            try ToolRegistry(toolsets: StandardToolsets.all + [CacheAdminTools.toolset(nil)]).toolsets.flatMap(\.tools).map(\.name)
            + DiscoveryTools.all.map(\.name)
        for name in names { #expect(ToolScopes.required(for: name) != nil, "\(name) has no scope") }
        #expect(Set(ToolScopes.table.keys) == Set(names))
        #expect(ToolScopes.required(for: "flush_cache") == .admin)
    }

    @Test("every tool has a cache policy; side effects are never cached; the table names no tool that does not exist")
    func everyToolHasACachePolicy() throws {
        let tools = try ToolRegistry(toolsets: StandardToolsets.all + [CacheAdminTools.toolset(nil)]).toolsets.flatMap(\.tools) + DiscoveryTools.all
        for tool in tools {
            #expect(ToolCachePolicies.hasEntry(tool.name), "\(tool.name) has no cache policy")
            if !tool.readOnly { #expect(ToolCachePolicies.policy(for: tool.name).cacheClass == .never, "\(tool.name) writes but is cached") }
        }
        #expect(Set(ToolCachePolicies.table.keys) == Set(tools.map(\.name)))
        for name in ["select_values", "clear_selections", "apply_bookmark", "get_current_selections"] {
            #expect(ToolCachePolicies.policy(for: name).cacheClass == .never)
        }
        #expect(ToolCachePolicies.policy(for: "reload_app").invalidatesApp)
        #expect(ToolCachePolicies.policy(for: "query_data").selectionDependent)
    }

    @Test("writes and administration need their own scopes; reading values needs qlik:data")
    func sensitiveTools() {
        #expect(ToolScopes.required(for: "reload_app") == .write)
        #expect(ToolScopes.required(for: "list_reload_tasks") == .admin)
        #expect(ToolScopes.required(for: "query_data") == .data)
        #expect(ToolScopes.required(for: "get_field_values") == .data)
        #expect(ToolScopes.required(for: "list_measures") == .read)
        #expect(ToolScopes.required(for: "no_such_tool") == nil)
    }
}
