import AsyncHTTPClient
import Foundation
import NIOCore
import QIXWire

/// A minimal Streamable HTTP MCP client for the load generator (JSON responses only).
struct MCPHTTPClient: Sendable {
    let client: HTTPClient
    let base: String

    private func post(_ body: JSONValue, session: String?) async throws -> (status: Int, session: String?, body: JSONValue?) {
        var request = HTTPClientRequest(url: base)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json, text/event-stream")
        if let session {
            request.headers.add(name: "Mcp-Session-Id", value: session)
            request.headers.add(name: "MCP-Protocol-Version", value: "2025-06-18")
        }
        request.body = .bytes(ByteBuffer(string: JSONCoding.serialize(body)))
        let response = try await client.execute(request, timeout: .seconds(60))
        let bytes = try await response.body.collect(upTo: 16 << 20)
        let text = String(buffer: bytes)
        return (Int(response.status.code), response.headers.first(name: "Mcp-Session-Id"), text.isEmpty ? nil : try? JSONCoding.parse(text))
    }

    /// initialize + notifications/initialized; returns the session id.
    func initialize() async throws -> String {
        let reply = try await post(["jsonrpc": "2.0", "id": 1, "method": "initialize",
                                    "params": ["protocolVersion": "2025-06-18", "capabilities": [:], "clientInfo": ["name": "bench", "version": "1"]]], session: nil)
        guard reply.status == 200, let session = reply.session else { throw BenchError("initialize failed with HTTP \(reply.status)") }
        _ = try await post(["jsonrpc": "2.0", "method": "notifications/initialized"], session: session)
        return session
    }

    func delete(_ session: String) async throws {
        var request = HTTPClientRequest(url: base)
        request.method = .DELETE
        request.headers.add(name: "Mcp-Session-Id", value: session)
        _ = try await client.execute(request, timeout: .seconds(10))
    }

    struct LoadResult {
        var throughput: Double
        var p50: Double
        var p99: Double
        var errors: Int
    }

    /// Each session calls `get_engine_info` back to back for `seconds`.
    func closedLoop(sessions: [String], seconds: Int) async throws -> LoadResult {
        let deadline = monotonicNanos() + UInt64(seconds) * 1_000_000_000
        let started = monotonicNanos()
        let perWorker = try await withThrowingTaskGroup(of: ([Double], Int).self) { group in
            for session in sessions {
                group.addTask {
                    var samples: [Double] = []
                    var errors = 0
                    var id = 1
                    while monotonicNanos() < deadline {
                        id += 1
                        let start = monotonicNanos()
                        let reply = try await post(["jsonrpc": "2.0", "id": .number(Double(id)), "method": "tools/call",
                                                    "params": ["name": "get_engine_info", "arguments": [:]]], session: session)
                        if reply.status != 200 || reply.body?["error"] != nil || reply.body?["result"]?["isError"] == true { errors += 1 }
                        samples.append(Double(monotonicNanos() - start) / 1e6)
                    }
                    return (samples, errors)
                }
            }
            return try await group.reduce(into: [([Double], Int)]()) { $0.append($1) }
        }
        let elapsed = Double(monotonicNanos() - started) / 1e9
        let samples = perWorker.flatMap(\.0)
        guard !samples.isEmpty else { return LoadResult(throughput: 0, p50: .nan, p99: .nan, errors: 0) }
        let latencies = Percentiles(samples)
        return LoadResult(throughput: Double(samples.count) / elapsed, p50: latencies.p50, p99: latencies.p99,
                          errors: perWorker.reduce(0) { $0 + $1.1 })
    }

    /// Opens `count` sessions (64 at a time) and leaves them idle; returns how many opened.
    func openIdle(count: Int) async throws -> Int {
        var opened = 0
        var remaining = count
        while remaining > 0 {
            let batch = min(64, remaining)
            remaining -= batch
            opened += await withTaskGroup(of: Int.self) { group in
                for _ in 0..<batch { group.addTask { (try? await initialize()) == nil ? 0 : 1 } }
                return await group.reduce(0, +)
            }
        }
        return opened
    }
}
