import Testing

@testable import QlikTools

@Suite("Tool scopes")
struct ToolScopesTests {
    @Test("every tool, including the discovery tools, has a scope; the table names no tool that does not exist")
    func everyToolHasAScope() throws {
        let names = try ToolRegistry().toolsets.flatMap(\.tools).map(\.name) + DiscoveryTools.all.map(\.name)
        for name in names { #expect(ToolScopes.required(for: name) != nil, "\(name) has no scope") }
        #expect(Set(ToolScopes.table.keys) == Set(names))
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
