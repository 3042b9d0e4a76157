import DemoEngine
import DemoWiring
import JSONCore
import Logging
import MCP
import MCPServerHost
import QlikEngine
import QlikTools

/// A demo engine for the tool tests and helpers to call tools and read results.
enum ToolsFixture {
    static let catalog = DemoAppCatalog.standard()
    private static let demo = DemoBackend(catalog: catalog, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
    private static let backendTask: Task<QlikBackend, Never> = Task {
        Task.detached { try? await demo.server.run() }
        return await demo.backend()
    }

    static func backend() async -> QlikBackend { await backendTask.value }

    static func registry(_ filter: ToolRegistry.Filter = .init()) throws -> ToolRegistry { try ToolRegistry(filter: filter) }

    /// Calls a tool and returns (structured content, text, isError); checks the structured
    /// content against the tool's output schema on success.
    static func call(_ name: String, _ arguments: JSONValue = [:], session: String = "s1") async throws -> (JSONValue, String, Bool) {
        let registry = try registry()
        let result = try await registry.call(name, arguments: arguments, context: ToolContext(backend: await backend(), sessionID: session))
        let structured = result.structuredContent.map(ValueBridge.json) ?? .null
        let text = result.content.compactMap { content -> String? in
            if case .text(let text, _, _) = content { return text }
            return nil
        }.joined()
        if result.isError != true, let tool = registry.tool(named: name) {
            try ToolArguments.validateOutput(structured, against: tool.output)
        }
        return (structured, text, result.isError == true)
    }
}
