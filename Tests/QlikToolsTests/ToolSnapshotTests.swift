import Foundation
import JSONCore
import Testing

@testable import QlikTools

/// Tool schemas as snapshot files (`__toolsnaps__/<tool>.snap`, like github-mcp-server's
/// toolsnaps): a tool's name, description, annotations, input and output schema are what clients
/// build on, so any change to them must be deliberate. A change fails this test until the
/// snapshot is updated with `UPDATE_TOOLSNAPS=1 swift test --filter ToolSnapshotTests`, and the
/// diff of the snapshot shows the change in review.
@Suite("tool schema snapshots")
struct ToolSnapshotTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("__toolsnaps__")

    static func snapshot(_ tool: QlikTool) throws -> String {
        let object: JSONValue = [
            "name": .string(tool.name), "title": .string(tool.title), "description": .string(tool.description),
            "toolset": .string(tool.toolset), "version": .string(tool.version),
            "annotations": ["readOnlyHint": .bool(tool.readOnly), "destructiveHint": .bool(tool.destructive), "idempotentHint": .bool(tool.idempotent)],
            "inputSchema": tool.input.json, "outputSchema": tool.output.outputJSON,
        ]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(object), as: UTF8.self) + "\n"
    }

    @Test("every tool's schema matches its snapshot; no snapshot without a tool")
    func snapshots() throws {
        let tools = try ToolRegistry().tools + DiscoveryTools.all
        let update = ProcessInfo.processInfo.environment["UPDATE_TOOLSNAPS"] == "1"
        if update { try FileManager.default.createDirectory(at: Self.directory, withIntermediateDirectories: true) }
        for tool in tools {
            let file = Self.directory.appendingPathComponent("\(tool.name).snap")
            let current = try Self.snapshot(tool)
            if update {
                try current.write(to: file, atomically: true, encoding: .utf8)
                continue
            }
            let stored = try? String(contentsOf: file, encoding: .utf8)
            #expect(stored != nil, "no snapshot for \(tool.name): run UPDATE_TOOLSNAPS=1 swift test --filter ToolSnapshotTests")
            if let stored {
                #expect(stored == current, "the schema of \(tool.name) changed: review it, then run UPDATE_TOOLSNAPS=1 swift test --filter ToolSnapshotTests")
            }
        }
        let names = Set(tools.map { "\($0.name).snap" })
        let files = (try? FileManager.default.contentsOfDirectory(atPath: Self.directory.path)) ?? []
        for stale in files where stale.hasSuffix(".snap") && !names.contains(stale) {
            if update {
                try FileManager.default.removeItem(at: Self.directory.appendingPathComponent(stale))
            } else {
                Issue.record("snapshot \(stale) belongs to no tool: delete it, or run UPDATE_TOOLSNAPS=1 swift test --filter ToolSnapshotTests")
            }
        }
    }

    @Test("a changed schema is caught (the comparison can fail)")
    func changeIsCaught() throws {
        let tool = try #require(try ToolRegistry().tool(named: "get_app"))
        let stored = try String(contentsOf: Self.directory.appendingPathComponent("get_app.snap"), encoding: .utf8)
        #expect(stored == (try Self.snapshot(tool)))
        let altered = stored.replacingOccurrences(of: "\"app_id\"", with: "\"appId\"")
        #expect(altered != stored)
    }
}
