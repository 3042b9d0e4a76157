import Foundation
import Synchronization

/// Where finished log lines go. Each call receives one complete line including its newline.
public protocol LogSink: Sendable {
    func write(_ line: [UInt8])
}

/// Writes lines to standard error with one `write(2)` per line, so concurrent lines never interleave.
public struct StandardErrorSink: LogSink {
    public init() {}

    public func write(_ line: [UInt8]) {
        line.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Foundation.write(2, buffer.baseAddress! + offset, buffer.count - offset)
                if written <= 0 {
                    if written < 0 && errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }
}

/// Keeps lines in memory (bounded), for tests and for the self-test command.
public final class MemoryLogSink: LogSink {
    private let lines = Mutex<[String]>([])
    private let limit: Int

    public init(limit: Int = 10_000) {
        self.limit = limit
    }

    public func write(_ line: [UInt8]) {
        let text = String(decoding: line.last == 10 ? line.dropLast() : line[...], as: UTF8.self)
        lines.withLock { lines in
            if lines.count >= limit { lines.removeFirst() }
            lines.append(text)
        }
    }

    /// The lines written so far, without their newlines.
    public var contents: [String] { lines.withLock { $0 } }
}
