import JSONCore

/// One MCP session as the load generator drives it, whatever the transport.
protocol MCPBenchSession: Sendable {
    /// Sends a request and returns the JSON-RPC response message (with `result` or `error`).
    func request(_ method: String, _ params: JSONValue) async throws -> JSONValue
    /// Sends a notification (no answer expected).
    func notify(_ method: String) async throws
    /// Ends the session (HTTP DELETE; nothing for stdio, whose session is the process).
    func close() async
}

/// The protocol revision the load generator speaks (every peer measured supports it).
let benchProtocolVersion = "2025-06-18"

extension MCPBenchSession {
    /// `initialize` then `notifications/initialized`.
    func handshake() async throws {
        let reply = try await request(
            "initialize",
            [
                "protocolVersion": .string(benchProtocolVersion), "capabilities": [:],
                "clientInfo": ["name": "qlik-mcp-bench", "version": "1"],
            ])
        if let error = reply["error"] { throw BenchError("initialize failed: \(JSONCoding.serialize(error))") }
        try await notify("notifications/initialized")
    }

    /// Calls a tool; returns nil when it succeeded, or a short description of the failure.
    func callTool(_ call: ToolCallSpec) async throws -> String? {
        let reply = try await request("tools/call", ["name": .string(call.name), "arguments": call.arguments])
        if let failure = responseFailure(reply) { return failure }
        if let expected = call.expect, let result = reply["result"], !JSONCoding.serialize(result).contains(expected) {
            return "\(call.name): the answer does not contain \"\(expected)\""
        }
        return nil
    }
}

/// The failure a response reports (a JSON-RPC error or a tool result with `isError`), or nil.
func responseFailure(_ reply: JSONValue) -> String? {
    if let error = reply["error"] { return "JSON-RPC error \(JSONCoding.serialize(error).prefix(200))" }
    if reply["result"]?["isError"] == true {
        let text = reply["result"]?["content"]?[0]?["text"]?.stringValue ?? ""
        return "tool error: \(text.prefix(200))"
    }
    return nil
}

/// A tool and its arguments, as a scenario calls it on one target.
struct ToolCallSpec: Codable, Sendable {
    var name: String
    var arguments: JSONValue
    /// Text the answer must contain (checks that the call really did its work).
    var expect: String?
}
