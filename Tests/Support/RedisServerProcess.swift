import Foundation
import Synchronization

/// A real `redis-server` on a free loopback port for one test (Debian `redis-server`; installed by
/// `.ci/run` and `scripts/bootstrap`). No persistence; killed when the test ends.
public final class RedisServerProcess: Sendable {
    public let port: Int
    private let process: Process
    private let stopped = Atomic<Bool>(false)

    /// Starts the server; when it exits at once (another process took the port between choosing
    /// it and binding it, which parallel tests make likely), tries again on a new port, up to five
    /// times.
    public init(password: String? = nil, port fixedPort: Int? = nil) async throws {
        let executable = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/usr/bin/redis-server"
        for _ in 0..<5 {
            let port = fixedPort ?? freeLoopbackPort()
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments =
                ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "yes", "--enable-debug-command", "local"]
                + (password.map { ["--requirepass", $0] } ?? [])
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            if try await Self.ready(process, port: port, password: password) {
                self.port = port
                self.process = process
                return
            }
        }
        throw RedisServerError(message: "redis-server did not start (five attempts)")
    }

    /// True when the server answers on `port` within 20 s; false when it exited first (or did not answer, then it is killed).
    private static func ready(_ process: Process, port: Int, password: String?) async throws -> Bool {
        let pid = process.processIdentifier
        let deadline = ContinuousClock.now + .seconds(20)
        var status: Int32 = 0
        while ContinuousClock.now < deadline {
            if waitpid(pid, &status, WNOHANG) == pid { return false }  // it exited: the port was taken
            if answersPing(port: port, password: password) { return true }
            try await Task.sleep(for: .milliseconds(50))  // polling a port, not synchronising on time
        }
        kill(pid, SIGKILL)
        _ = waitpid(pid, &status, 0)
        return false
    }

    /// SIGTERM, then SIGKILL after 2 s; reaped with `waitpid` (Foundation's `waitUntilExit`
    /// does not return for this child under the test runner).
    /// Idempotent: a second call never signals a pid that may have been reused.
    public func stop() {
        let pid = process.processIdentifier
        guard pid > 0, !stopped.exchange(true, ordering: .relaxed) else { return }
        kill(pid, SIGTERM)
        var status: Int32 = 0
        for _ in 0..<200 {
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid || reaped == -1 { return }
            usleep(10_000)
        }
        kill(pid, SIGKILL)
        _ = waitpid(pid, &status, 0)
    }

    /// True when a RESP `PING` (after `AUTH` when a password is set) on `port` is answered.
    private static func answersPing(port: Int, password: String?) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return false }
        let command = (password.map { "AUTH \($0)\r\n" } ?? "") + "PING\r\n"
        guard send(fd, command, command.utf8.count, 0) == command.utf8.count else { return false }
        var buffer = [UInt8](repeating: 0, count: 256)
        var received = ""
        while !received.contains("PONG") {
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count > 0 else { return false }
            received += String(decoding: buffer[..<count], as: UTF8.self)
            if received.contains("-ERR") || received.contains("-NOAUTH") || received.contains("-WRONGPASS") { return false }
        }
        return true
    }
}

/// `redis-server` could not be started.
public struct RedisServerError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }

}
