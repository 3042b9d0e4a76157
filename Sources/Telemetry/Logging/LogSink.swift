import Foundation
import Synchronization

/// Where finished log lines go. Each call receives one complete line including its newline.
public protocol LogSink: Sendable {
    func write(_ line: [UInt8])
    /// `urgent` lines (errors and worse) are written before the call returns, so a crash right
    /// after them cannot lose them.
    func write(_ line: [UInt8], urgent: Bool)
    /// Writes everything accepted so far (shutdown).
    func flush()
}

extension LogSink {
    public func write(_ line: [UInt8], urgent: Bool) { write(line) }
    public func flush() {}
}

/// Writes lines to standard error with one `write(2)` per line, so concurrent lines never interleave.
public struct StandardErrorSink: LogSink {
    public init() {}

    public func write(_ line: [UInt8]) {
        line.withUnsafeBytes { FileDescriptorWriter.writeAll(2, $0) }
    }
}

/// Writes lines to standard error in batches: callers append to a buffer and return; a writer
/// thread empties it every 20 ms with one `write(2)` (under load, one per many lines instead of
/// one per line). Bounded: when `maxBufferedBytes` are waiting, the caller writes the batch
/// itself (back-pressure, nothing is dropped). Error lines and `flush()` write at once, and so
/// does a normal exit. A sink lives as long as the process (one per `TelemetrySystem`).
public final class BatchingStandardErrorSink: LogSink {
    private struct State {
        var buffer: [UInt8] = []
    }

    private let state = Mutex(State())
    private let maxBufferedBytes: Int
    /// How often the writer thread writes what has accumulated.
    static let interval: TimeInterval = 0.02
    private let fd: Int32
    /// Serialises the actual writes, so batches never interleave.
    private let writeLock = Mutex(())

    public init(fd: Int32 = 2, maxBufferedBytes: Int = 1 << 20) {
        self.fd = fd
        self.maxBufferedBytes = maxBufferedBytes
        let thread = Thread { [weak self] in self?.runWriter() }
        thread.name = "qlik-mcp-log-writer"
        thread.start()
        Self.flushAtExit(self)
    }

    /// Sinks whose buffers are written when the process exits normally (a command that returns
    /// without shutting telemetry down still gets its last lines out).
    private static let live = Mutex<[ObjectIdentifier: BatchingStandardErrorSink]>([:])
    private static let exitHook: Void = { _ = atexit { BatchingStandardErrorSink.flushAll() } }()

    private static func flushAtExit(_ sink: BatchingStandardErrorSink) {
        _ = exitHook
        live.withLock { $0[ObjectIdentifier(sink)] = sink }
    }

    private static func flushAll() {
        for sink in live.withLock({ Array($0.values) }) { sink.flush() }
    }

    public func write(_ line: [UInt8]) { write(line, urgent: false) }

    public func write(_ line: [UInt8], urgent: Bool) {
        let size = state.withLock { state -> Int in
            state.buffer.append(contentsOf: line)
            return state.buffer.count
        }
        // No wake-up per line: the writer runs every `interval` (a signal per line would cost a
        // context switch per line under load, which is what batching is for).
        if urgent || size >= maxBufferedBytes { flush() }
    }

    public func flush() {
        writeLock.withLock { _ in
            // Take the buffer instead of copying it.
            var batch: [UInt8] = []
            state.withLock { swap(&batch, &$0.buffer) }
            guard !batch.isEmpty else { return }
            batch.withUnsafeBytes { FileDescriptorWriter.writeAll(fd, $0) }
        }
    }

    private func runWriter() {
        while true {
            // Lines wait at most `interval` before they are written.
            Thread.sleep(forTimeInterval: Self.interval)
            flush()
        }
    }
}

/// `write(2)` of a whole buffer, retrying short writes and `EINTR`.
enum FileDescriptorWriter {
    static func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) {
        var offset = 0
        while offset < buffer.count {
            let written = Foundation.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            if written <= 0 {
                if written < 0 && errno == EINTR { continue }
                return
            }
            offset += written
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
