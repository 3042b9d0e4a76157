import ArgumentParser
import DemoEngine
import Foundation
import JSONCore
import Logging
import MCPServerHost
import QlikEngine
import QlikTools
import Telemetry
import ToolCache

/// `qlik-mcp tools list`: the tool catalogue.
struct ToolsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tools",
        abstract: "Show the MCP tools this server offers.",
        subcommands: [List.self]
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List tools (name, toolset, read-only, purpose).")

        @Option(help: "Only this toolset.") var toolset: String?
        @Flag(help: "Print the MCP tool definitions as JSON (schemas and annotations included).") var json = false
        @Flag(help: "Hide tools that are not read-only.") var readOnly = false

        func run() throws {
            let registry: ToolRegistry
            do {
                registry = try ToolRegistry(toolsets: StandardToolsets.all + [CacheAdminTools.toolset(nil)], filter: .init(toolsets: toolset.map { [$0] }, readOnly: readOnly))
            } catch let error as ArgumentError {
                throw ValidationError(error.message)
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(registry.definitions), as: UTF8.self))
            } else {
                print(ToolCatalogue.markdown(registry.tools))
            }
        }
    }
}

/// `qlik-mcp call <tool>`: run one tool and print its result, without an AI client.
struct CallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "call",
        abstract: "Call one tool and print its result.",
        discussion: """
            Arguments come from --arg key=value (repeatable; values that parse as JSON numbers, booleans, arrays or \
            objects are used as such) or --json '{…}'. Without --engine (or with --demo) the embedded demo engine is started.

            Examples:
              qlik-mcp call list_apps
              qlik-mcp call get_field_values --arg app_id=sales-analytics --arg field=Region
              qlik-mcp call list_fields --json '{"app_id":"sales-analytics","table":"Regions"}'
            """
    )

    @Argument(help: "Tool name (see `qlik-mcp tools list`).") var tool: String
    @Option(name: .customLong("arg"), help: ArgumentHelp("key=value argument (repeatable).", valueName: "key=value")) var arguments: [String] = []
    @Option(help: ArgumentHelp("All arguments as one JSON object.", valueName: "json")) var json: String?
    @OptionGroup var engine: EngineOptions
    @Flag(help: "Print the structured result as JSON instead of the text rendering.") var structured = false
    @OptionGroup var telemetry: TelemetryOptions

    func run() async throws {
        let system = try TelemetrySystem(configuration: telemetry.makeConfiguration())
        system.bootstrapGlobalSystems()
        defer { Task { await system.shutdown(timeout: .seconds(2)) } }
        var values: [String: JSONValue] = [:]
        if let json {
            guard case .object(let object) = (try? JSONCoding.parse(json)) ?? .null else {
                throw ValidationError("--json must be a JSON object, e.g. '{\"app_id\":\"sales-analytics\"}'")
            }
            values = object
        }
        for argument in arguments {
            guard let equals = argument.firstIndex(of: "="), equals != argument.startIndex else {
                throw ValidationError("--arg '\(argument)' must look like key=value")
            }
            let key = String(argument[..<equals])
            let raw = String(argument[argument.index(after: equals)...])
            let parsed = try? JSONCoding.parse(raw)
            values[key] = (parsed == nil || parsed?.stringValue != nil) ? .string(raw) : parsed!
        }
        let quiet = Logger(label: "qlik-mcp.call") { _ in SwiftLogNoOpLogHandler() }
        let registry = try ToolRegistry()
        let (backend, stopDemo) = try await engine.makeBackend(logger: quiet)
        do {
            let result = try await registry.call(tool, arguments: .object(values), context: ToolContext(backend: backend, sessionID: "cli"))
            if structured, let content = result.structuredContent {
                print(JSONCoding.serialize(ValueBridge.json(content)))
            } else {
                for case .text(let text, _, _) in result.content { print(text) }
            }
            await backend.pool.closeIdle()
            await stopDemo()
            if result.isError == true { throw ExitCode(2) }
        } catch let error as ArgumentError {
            await stopDemo()
            throw ValidationError(error.description)
        }
    }
}
