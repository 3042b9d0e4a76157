import Foundation
import JSONCore

/// One MCP server to measure: how to start it, how to reach it, and which of its tools stand for
/// each scenario. Loaded from a JSON file (see `Benchmarks/compare/targets.json`); strings may use
/// `{qlik-mcp}` (this executable), `{engine_port}` (the demo engine), `{port}` (a free port),
/// `{venvs}` (`--venvs`), `{here}` (the targets file's folder) and `{otlp}` (a loopback OTLP receiver).
struct BenchTarget: Codable, Sendable {
    enum Transport: String, Codable, Sendable { case http, stdio }

    var name: String
    var transport: Transport
    var command: [String]
    var env: [String: String]?
    /// The MCP endpoint for `http` targets.
    var url: String?
    /// Extra headers on every HTTP request (e.g. `Authorization`).
    var headers: [String: String]?
    /// Scenario name (`trivial`, `metadata`, `data`) → the equivalent tool call.
    var tools: [String: ToolCallSpec]
    /// Scenario name → why this target has no equivalent (printed in the report).
    var unsupported: [String: String]?
    /// Printed under the table (how the target was pointed at the demo engine, caveats).
    var note: String?

    func expanded(_ values: [String: String]) -> BenchTarget {
        func expand(_ text: String) -> String {
            values.reduce(text) { $0.replacingOccurrences(of: "{\($1.key)}", with: $1.value) }
        }
        var copy = self
        copy.command = command.map(expand)
        copy.env = env?.mapValues(expand)
        copy.url = url.map(expand)
        copy.headers = headers?.mapValues(expand)
        return copy
    }

    /// qlik-mcp itself over Streamable HTTP against the demo engine (the baseline of every run).
    static func qlikMCP(name: String = "qlik-mcp", extraArguments: [String] = [], env: [String: String] = fullTelemetry) -> BenchTarget {
        BenchTarget(
            name: name, transport: .http,
            command: [
                "{qlik-mcp}", "serve", "--transport", "http", "--port", "{port}", "--engine", "ws://127.0.0.1:{engine_port}",
                "--max-sessions", "20000", "--log-level", "info",
            ] + extraArguments,
            env: env, url: "http://127.0.0.1:{port}/mcp", headers: nil, tools: qlikMCPTools, unsupported: nil, note: nil)
    }

    /// The same server over stdio.
    static let qlikMCPStdio = BenchTarget(
        name: "qlik-mcp (stdio)", transport: .stdio,
        command: ["{qlik-mcp}", "serve", "--transport", "stdio", "--engine", "ws://127.0.0.1:{engine_port}", "--log-level", "info"],
        env: fullTelemetry, url: nil, headers: nil, tools: qlikMCPTools, unsupported: nil, note: nil)

    /// Logs at info (on stderr), metrics, and every span exported to the bench's loopback OTLP receiver.
    static let fullTelemetry = ["OTEL_EXPORTER_OTLP_ENDPOINT": "{otlp}", "OTEL_TRACES_SAMPLER": "always_on"]

    static let qlikMCPTools: [String: ToolCallSpec] = [
        "trivial": ToolCallSpec(name: "get_engine_info", arguments: [:], expect: "engine_version"),
        "metadata": ToolCallSpec(name: "list_measures", arguments: ["app_id": "sales-analytics"], expect: "Sum(Sales)"),
        "data": ToolCallSpec(
            name: "query_data",
            arguments: [
                "app_id": "sales-analytics", "dimensions": ["Region", "Category"],
                "measures": ["Sum(Sales)", "Count(DISTINCT OrderID)"],
            ], expect: "Americas"),
    ]
}

/// A free TCP port on loopback (bound, read, released).
func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw BenchError("socket() failed") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw BenchError("could not bind a loopback port") }
    return Int(UInt16(bigEndian: address.sin_port))
}
