import AsyncHTTPClient
import Foundation
import JSONCore
import Synchronization

/// The qlik-mcp binary started as `serve --transport http --port 0 …` for benchmarks.
final class SpawnedServer: Sendable {
    let process: Process
    let port: Int
    let listeningMilliseconds: Double
    let readyMilliseconds: Double

    private init(process: Process, port: Int, listening: Double, ready: Double) {
        self.process = process
        self.port = port
        self.listeningMilliseconds = listening
        self.readyMilliseconds = ready
    }

    static func start(extraArguments: [String], client: HTTPClient) async throws -> SpawnedServer {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ServerBinary.path)
        process.arguments = ["serve", "--transport", "http", "--port", "0", "--log-level", "info"] + extraArguments
        var environment = ProcessInfo.processInfo.environment
        environment["QLIK_MCP_LOG_LEVEL"] = nil
        process.environment = environment
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let buffer = Mutex("")
        // Log lines are drained continuously (a full pipe would block the server); the first
        // `mcp server listening` line gives the port.
        errors.fileHandleForReading.readabilityHandler = { handle in
            let chunk = String(decoding: handle.availableData, as: UTF8.self)
            if chunk.isEmpty { continuation.finish(); handle.readabilityHandler = nil; return }
            buffer.withLock { text in
                text += chunk
                while let newline = text.firstIndex(of: "\n") {
                    let line = String(text[..<newline])
                    text.removeSubrange(...newline)
                    if line.contains("\"mcp server listening\""), let value = try? JSONCoding.parse(line)["server.port"],
                        let port = value.stringValue.flatMap(Int.init) ?? value.intValue
                    {
                        continuation.yield(port)
                    }
                }
            }
        }
        let start = monotonicNanos()
        try process.run()
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw BenchError("the server exited before listening") }
        let listening = Double(monotonicNanos() - start) / 1e6
        while !(await ready(port: port, client: client)) {
            guard process.isRunning, monotonicNanos() - start < 120_000_000_000 else { throw BenchError("the server never became ready") }
            try await Task.sleep(for: .milliseconds(2))
        }
        return SpawnedServer(process: process, port: port, listening: listening, ready: Double(monotonicNanos() - start) / 1e6)
    }

    private static func ready(port: Int, client: HTTPClient) async -> Bool {
        guard let response = try? await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/readyz"), timeout: .seconds(2)) else { return false }
        _ = try? await response.body.collect(upTo: 1 << 16)
        return response.status.code == 200
    }

    /// Resident set size of the server process.
    func rssMiB() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kib = Double(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { return .nan }
        return kib / 1024
    }

    /// SIGTERM, then waits for the exit.
    func terminate() -> (milliseconds: Double, status: Int32) {
        let start = monotonicNanos()
        process.terminate()
        process.waitUntilExit()
        return (Double(monotonicNanos() - start) / 1e6, process.terminationStatus)
    }

    func kill() {
        if process.isRunning { process.interrupt() }
    }
}
