import Foundation
import JSONCore
import Synchronization

/// An MCP session over a server process's stdin/stdout (newline-delimited JSON-RPC). Requests
/// are pipelined: many may be outstanding, answers are matched by id. Every request times out
/// after 60 s; when the process's stdout ends, every waiting request fails at once.
final class StdioBenchSession: MCPBenchSession {
    private typealias Waiter = CheckedContinuation<JSONValue, any Error>

    private let input: FileHandle
    private let writeLock = Mutex(())
    private let state = Mutex<(nextID: Int, waiting: [Int: Waiter], ended: Bool, buffer: Data)>((0, [:], false, Data()))

    /// Takes over the process's pipes; the process must not have been started yet.
    init(process: Process) {
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        input = stdin.fileHandleForWriting
        // A plain thread with blocking reads: Foundation's readabilityHandler was seen to crash
        // when the process ended while a chunk was being delivered.
        let output = stdout.fileHandleForReading
        let thread = Thread { [weak self] in
            var chunk = [UInt8](repeating: 0, count: 65_536)
            while true {
                let count = chunk.withUnsafeMutableBytes { read(output.fileDescriptor, $0.baseAddress, $0.count) }
                if count < 0, errno == EINTR { continue }
                guard count > 0, let self else { break }
                self.consume(Data(chunk[0..<count]))
            }
            self?.failAll(BenchError("the server closed its stdout"))
        }
        thread.name = "bench-stdio-reader"
        thread.start()
    }

    func request(_ method: String, _ params: JSONValue) async throws -> JSONValue {
        let id = state.withLock { state -> Int in
            state.nextID += 1; return state.nextID
        }
        let timeout = Task { [weak self] in
            try await Task.sleep(for: .seconds(60))
            self?.resume(id: id, with: .failure(BenchError("\(method): no answer within 60 s")))
        }
        defer { timeout.cancel() }
        return try await withCheckedThrowingContinuation { (waiter: Waiter) in
            let ended = state.withLock { state -> Bool in
                if !state.ended { state.waiting[id] = waiter }
                return state.ended
            }
            if ended { waiter.resume(throwing: BenchError("the server process has ended")); return }
            do {
                try write(["jsonrpc": "2.0", "id": .number(Double(id)), "method": .string(method), "params": params])
            } catch {
                resume(id: id, with: .failure(error))
            }
        }
    }

    func notify(_ method: String) async throws {
        try write(["jsonrpc": "2.0", "method": .string(method)])
    }

    func close() async {
        try? input.close()
    }

    private func write(_ message: JSONValue) throws {
        let line = Data((JSONCoding.serialize(message) + "\n").utf8)
        try writeLock.withLock { _ in try input.write(contentsOf: line) }
    }

    private func consume(_ chunk: Data) {
        let lines = state.withLock { state -> [Data] in
            state.buffer.append(chunk)
            var lines: [Data] = []
            while let newline = state.buffer.firstIndex(of: UInt8(ascii: "\n")) {
                lines.append(state.buffer[state.buffer.startIndex..<newline])
                state.buffer.removeSubrange(state.buffer.startIndex...newline)
            }
            return lines
        }
        for line in lines {
            guard let message = try? JSONCoding.parse(String(decoding: line, as: UTF8.self)),
                let id = message["id"]?.intValue, message["method"] == nil
            else { continue }
            resume(id: id, with: .success(message))
        }
    }

    private func resume(id: Int, with result: Result<JSONValue, any Error>) {
        state.withLock { $0.waiting.removeValue(forKey: id) }?.resume(with: result)
    }

    private func failAll(_ error: any Error) {
        let waiters = state.withLock { state -> [Waiter] in
            state.ended = true
            defer { state.waiting.removeAll() }
            return Array(state.waiting.values)
        }
        for waiter in waiters { waiter.resume(throwing: error) }
    }
}
