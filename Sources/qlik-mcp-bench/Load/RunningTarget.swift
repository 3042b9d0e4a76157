import AsyncHTTPClient
import Foundation

/// A target's server process, started for one measurement and stopped after it.
final class RunningTarget: Sendable {
    let target: BenchTarget
    let process: Process
    private let client: HTTPClient
    private let stdio: StdioBenchSession?

    private init(target: BenchTarget, process: Process, client: HTTPClient, stdio: StdioBenchSession?) {
        self.target = target
        self.process = process
        self.client = client
        self.stdio = stdio
    }

    /// Spawns the server (stderr to `log`, working directory a fresh temporary folder, so peers
    /// that write files into their working directory do not litter the checkout) and waits until
    /// it answers `initialize` (at most 120 s).
    static func start(_ target: BenchTarget, client: HTTPClient, log: URL) async throws -> RunningTarget {
        guard let executable = target.command.first else { throw BenchError("\(target.name): empty command") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = Array(target.command.dropFirst())
        let workDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("qlik-mcp-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: workDirectory, withIntermediateDirectories: true)
        process.currentDirectoryURL = workDirectory
        let inherited = ProcessInfo.processInfo.environment.filter { ["PATH", "LANG", "LC_ALL", "TMPDIR"].contains($0.key) }
        process.environment = inherited.merging(["HOME": workDirectory.path]) { $1 }.merging(target.env ?? [:]) { $1 }
        guard FileManager.default.createFile(atPath: log.path, contents: nil) else { throw BenchError("cannot create \(log.path)") }
        process.standardError = try FileHandle(forWritingTo: log)
        let stdio = target.transport == .stdio ? StdioBenchSession(process: process) : nil
        if stdio == nil { process.standardInput = FileHandle.nullDevice; process.standardOutput = try FileHandle(forWritingTo: log) }
        let start = monotonicNanos()
        do {
            try process.run()
        } catch {
            throw BenchError("\(target.name): could not start \(executable): \(error.localizedDescription)")
        }
        let running = RunningTarget(target: target, process: process, client: client, stdio: stdio)
        do {
            if let stdio {
                try await stdio.handshake()
            } else {
                try await running.waitForHTTP(deadline: start + 120_000_000_000)
            }
        } catch {
            running.stop()
            throw BenchError("\(target.name) did not start: \(error) (log: \(log.path))")
        }
        return running
    }

    private func waitForHTTP(deadline: UInt64) async throws {
        while true {
            do {
                let session = try await newSession()
                await session.close()
                return
            } catch {
                guard process.isRunning else { throw BenchError("the process exited with status \(process.terminationStatus)") }
                guard monotonicNanos() < deadline else { throw error }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    /// A new initialized session (HTTP), or the process's one session (stdio).
    func newSession() async throws -> any MCPBenchSession {
        if let stdio { return stdio }
        guard let url = target.url else { throw BenchError("\(target.name): an http target needs a url") }
        let session = HTTPBenchSession(client: client, url: url, headers: target.headers ?? [:])
        try await session.handshake()
        return session
    }

    /// User + system CPU seconds of the server process so far.
    var cpuSeconds: Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return .nan }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command: state is field 3, utime 14 and stime 15 (1-based in proc(5)).
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return .nan }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Peak resident set size (VmHWM) of the server process.
    var peakRSSMiB: Double {
        guard let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kib = Double(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { return .nan }
        return kib / 1024
    }

    /// SIGTERM, then SIGKILL if the process is still running after 10 s.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = monotonicNanos() + 10_000_000_000
        while process.isRunning, monotonicNanos() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        // Reaped with waitpid: Foundation's waitUntilExit can miss the exit of a killed child and wait forever.
        var status: Int32 = 0
        _ = waitpid(process.processIdentifier, &status, 0)
    }
}
