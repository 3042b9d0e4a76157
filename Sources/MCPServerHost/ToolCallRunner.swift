import Foundation
import JSONCore
import MCP
import QlikTools
import ServiceContextModule
import Telemetry

/// Runs one `tools/call` of a session: progress notifications, the tool, and the
/// `tools/list_changed` notification after a toolset change. Every transport reaches it through
/// `DirectToolCalls`.
struct ToolCallRunner: Sendable {
    let tools: ToolSession
    let sessionID: String
    let server: WeakServer

    /// Runs the tool inside the caller's service context (the request's server span, set by
    /// `InstrumentedTransport`), with the session and tool for logs.
    func run(
        name: String, arguments: JSONValue?, progressToken: ProgressToken?, directives: CallDirectives = CallDirectives()
    ) async throws -> CallTool.Result {
        let server = self.server
        let progress = progressToken.map { token in
            ProgressReporter { value, total, message in
                try? await server.server?.notify(ProgressNotification.message(.init(progressToken: token, progress: value, total: total, message: message)))
            }
        }
        var serviceContext = ServiceContext.current ?? .topLevel
        serviceContext.mcpSessionID = sessionID
        serviceContext.toolName = name
        let (result, listChanged) = try await ServiceContext.withValue(serviceContext) {
            try await MCPServerSetup.protocolErrors { try await tools.call(name, arguments: arguments, progress: progress, directives: directives) }
        }
        if listChanged { try? await server.server?.notify(ToolListChangedNotification.message()) }
        return result
    }
}

/// `tools/call` answered without the SDK's generic request path.
///
/// Hand-written because the SDK's typed handlers turn every result into its `Value` type by
/// encoding it and decoding it again, and `Value`'s decoder tries four types per node and runs a
/// freshly compiled regular expression over every string (`Data.isDataURL`). Profiled under load,
/// that was 45 % of the server's CPU for `list_measures`. Here the request is read from the parsed
/// message the transport already has, and the result is encoded once. This is the only
/// `tools/call` path (the SDK's `Server` has no `tools/call` handler); every other method goes
/// through the SDK's `Server`.
public struct DirectToolCalls: Sendable {
    let runner: ToolCallRunner

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// The label of a tool name in metrics: its canonical name, or `other` (bounded cardinality).
    func metricLabel(forTool name: String) -> String {
        runner.tools.canonicalToolName(name) ?? "other"
    }

    /// The complete JSON-RPC response to a `tools/call` request, and whether it is a tool error
    /// (`isError: true`).
    func respond(to message: JSONValue, id: JSONValue) async -> (Data, isError: Bool) {
        let params = message["params"]
        let meta = params?["_meta"]
        guard let name = params?["name"]?.stringValue, !name.isEmpty else {
            return (Self.error(id: id, MCPError.invalidParams("tools/call needs params.name, the tool's name (a string)")), false)
        }
        let arguments = params?["arguments"]
        if let arguments, arguments != .null, arguments.objectValue == nil {
            return (Self.error(id: id, MCPError.invalidParams("params.arguments must be an object")), false)
        }
        let token: ProgressToken? =
            switch meta?["progressToken"] {
            case .string(let text): .string(text)
            case .number(let number) where number.rounded() == number: .integer(Int(number))
            default: nil
            }
        do {
            // Cache bypass, deadline and idempotency key (`CallDirectives` lists them); a bad one is -32602.
            let directives = try await MCPServerSetup.protocolErrors { try CallDirectives(meta: meta) }
            let result = try await runner.run(name: name, arguments: arguments == .null ? nil : arguments, progressToken: token, directives: directives)
            var data = Data("{\"id\":".utf8)
            data.append(Data(JSONCoding.serialize(id).utf8))
            data.append(Data(",\"jsonrpc\":\"2.0\",\"result\":".utf8))
            data.append(try Self.encode(result))
            data.append(UInt8(ascii: "}"))
            return (data, result.isError == true)
        } catch let error as MCPError {
            return (Self.error(id: id, error), false)
        } catch {
            return (Self.error(id: id, MCPError.internalError("\(error)")), false)
        }
    }

    /// The result as JSON. Results of text content, structured content and `_meta` (every
    /// qlik-mcp tool's) are written with `JSONCoding`; anything else goes through the SDK's
    /// `Codable` encoding.
    static func encode(_ result: CallTool.Result) throws -> Data {
        var content: [JSONValue] = []
        for item in result.content {
            guard case .text(let text, nil, nil) = item else { return try encoder.encode(result) }
            content.append(["text": .string(text), "type": "text"])
        }
        var object: [String: JSONValue] = ["content": .array(content)]
        if let meta = result._meta { object["_meta"] = .object(meta.fields.mapValues(ValueBridge.json)) }
        if let structured = result.structuredContent { object["structuredContent"] = ValueBridge.json(structured) }
        if let isError = result.isError { object["isError"] = .bool(isError) }
        return Data(JSONCoding.serialize(.object(object)).utf8)
    }

    /// A JSON-RPC error response, the error encoded as the SDK encodes it (keys sorted like the SDK's).
    static func error(id: JSONValue, _ error: MCPError) -> Data {
        var data = Data("{\"error\":".utf8)
        data.append((try? encoder.encode(error)) ?? Data("{\"code\":-32603,\"message\":\"Internal error\"}".utf8))
        data.append(Data(",\"id\":\(JSONCoding.serialize(id)),\"jsonrpc\":\"2.0\"}".utf8))
        return data
    }
}
