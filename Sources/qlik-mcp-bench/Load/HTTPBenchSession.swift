import AsyncHTTPClient
import Foundation
import JSONCore
import NIOCore
import Synchronization

/// A Streamable HTTP MCP session for the load generator: JSON or SSE responses (servers built on
/// the Python SDK answer every POST with a short SSE stream), `Mcp-Session-Id` kept after
/// `initialize`, a 60 s timeout on every request.
final class HTTPBenchSession: MCPBenchSession {
    let client: HTTPClient
    let url: String
    let headers: [String: String]
    private let state = Mutex<(session: String?, nextID: Int)>((nil, 0))

    init(client: HTTPClient, url: String, headers: [String: String] = [:]) {
        self.client = client
        self.url = url
        self.headers = headers
    }

    var sessionID: String? { state.withLock { $0.session } }

    func request(_ method: String, _ params: JSONValue) async throws -> JSONValue {
        let id = state.withLock { state -> Int in
            state.nextID += 1; return state.nextID
        }
        let (status, contentType, text) = try await post(["jsonrpc": "2.0", "id": .number(Double(id)), "method": .string(method), "params": params])
        guard status == 200 else { throw BenchError("\(method): HTTP \(status) \(text.prefix(200))") }
        guard let message = Self.message(in: text, contentType: contentType, id: id) else {
            throw BenchError("\(method): no JSON-RPC response with id \(id) in the reply")
        }
        return message
    }

    func notify(_ method: String) async throws {
        let (status, _, text) = try await post(["jsonrpc": "2.0", "method": .string(method)])
        guard (200..<300).contains(status) else { throw BenchError("\(method): HTTP \(status) \(text.prefix(200))") }
    }

    func close() async {
        guard let session = sessionID else { return }
        var request = HTTPClientRequest(url: url)
        request.method = .DELETE
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.headers.add(name: "Mcp-Session-Id", value: session)
        request.headers.add(name: "MCP-Protocol-Version", value: benchProtocolVersion)
        if let response = try? await client.execute(request, timeout: .seconds(10)) {
            _ = try? await response.body.collect(upTo: 1 << 16)
        }
    }

    private func post(_ body: JSONValue) async throws -> (Int, String, String) {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json, text/event-stream")
        if let session = sessionID {
            request.headers.add(name: "Mcp-Session-Id", value: session)
            request.headers.add(name: "MCP-Protocol-Version", value: benchProtocolVersion)
        }
        request.body = .bytes(ByteBuffer(string: JSONCoding.serialize(body)))
        let response = try await client.execute(request, timeout: .seconds(60))
        let bytes = try await response.body.collect(upTo: 16 << 20)
        if let session = response.headers.first(name: "Mcp-Session-Id") {
            state.withLock { if $0.session == nil { $0.session = session } }
        }
        return (Int(response.status.code), response.headers.first(name: "Content-Type") ?? "", String(buffer: bytes))
    }

    /// The response with `id` from a JSON body or from the `data:` lines of an SSE body.
    static func message(in text: String, contentType: String, id: Int) -> JSONValue? {
        guard contentType.lowercased().hasPrefix("text/event-stream") else { return try? JSONCoding.parse(text) }
        for event in text.replacingOccurrences(of: "\r\n", with: "\n").components(separatedBy: "\n\n") {
            let data = event.split(separator: "\n").filter { $0.hasPrefix("data:") }.map { $0.dropFirst(5).drop { $0 == " " } }.joined(separator: "\n")
            if let message = try? JSONCoding.parse(data), message["id"]?.intValue == id { return message }
        }
        return nil
    }
}
