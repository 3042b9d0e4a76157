import Foundation
import Synchronization

/// Dead letters in a local append-only file (`<data-dir>/dead-letters.jsonl`): one JSON line per
/// change (`add` with the letter, `remove` with its id), `fsync`ed before `append`/`remove`
/// return, so a letter survives a crash or restart; read back in full at start. The file is
/// rewritten (to a temporary file, fsync, rename) when removals make up half of it. One server
/// per data directory (another process's changes are seen at its next start only). Bounded:
/// beyond `maxEntries` the oldest letter is dropped; letters older than `retention` too.
///
/// Hand-written: an embedded database for a few thousand lines is not worth a dependency.
public final class FileDeadLetterStore: DeadLetterStore, Sendable {
    private struct State {
        var letters: [String: DeadLetter] = [:]
        var order: [String] = []
        var lines = 0
    }

    public let path: String
    public let maxEntries: Int
    public let retention: Duration
    private let state = Mutex(State())
    /// One writer at a time (appends must not interleave).
    private let writing = Mutex(())

    private struct Line: Codable {
        var op: String
        var letter: DeadLetter?
        var id: String?
    }

    /// Opens (or creates) the store in `directory`; lines it cannot read are skipped and counted
    /// in `skippedLines` (a torn last line after a crash).
    public init(directory: String, maxEntries: Int = 10_000, retention: Duration = .seconds(7 * 86_400)) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        path = (directory as NSString).appendingPathComponent("dead-letters.jsonl")
        self.maxEntries = maxEntries
        self.retention = retention
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw DeadLetterError("cannot create \(path): check that the data directory is writable")
            }
        }
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        var loaded = State()
        var skipped = 0
        for raw in text.split(separator: "\n") {
            loaded.lines += 1
            guard let line = try? DeadLetter.decoder.decode(Line.self, from: Data(raw.utf8)) else {
                skipped += 1
                continue
            }
            switch line.op {
            case "add":
                if let letter = line.letter, loaded.letters[letter.id] == nil { loaded.order.append(letter.id) }
                if let letter = line.letter { loaded.letters[letter.id] = letter }
            case "remove":
                if let id = line.id, loaded.letters.removeValue(forKey: id) != nil { loaded.order.removeAll { $0 == id } }
            default: skipped += 1
            }
        }
        skippedLines = skipped
        state.withLock { $0 = loaded }
    }

    /// Lines of the file that could not be read when it was opened.
    public let skippedLines: Int

    public func append(_ letter: DeadLetter) async throws {
        try write([Line(op: "add", letter: letter)])
        let evicted = state.withLock { state -> [String] in
            if state.letters[letter.id] == nil { state.order.append(letter.id) }
            state.letters[letter.id] = letter
            state.lines += 1
            return expired(&state)
        }
        if !evicted.isEmpty { try write(evicted.map { Line(op: "remove", id: $0) }) }
    }

    public func list(limit: Int) async throws -> [DeadLetter] {
        state.withLock { state in state.order.suffix(max(0, limit)).compactMap { state.letters[$0] } }
    }

    public func get(_ id: String) async throws -> DeadLetter? { state.withLock { $0.letters[id] } }

    @discardableResult
    public func remove(_ id: String) async throws -> Bool {
        guard state.withLock({ $0.letters[id] != nil }) else { return false }
        try write([Line(op: "remove", id: id)])
        let compact = state.withLock { state -> Bool in
            state.letters[id] = nil
            state.order.removeAll { $0 == id }
            state.lines += 1
            return state.lines > 64 && state.lines > 2 * state.letters.count
        }
        if compact { try rewrite() }
        return true
    }

    public func count() async throws -> Int { state.withLock { $0.letters.count } }

    /// Drops letters beyond the count bound and past the retention; returns their ids.
    private func expired(_ state: inout State) -> [String] {
        var dropped: [String] = []
        let oldest = Date().addingTimeInterval(-Double(retention.components.seconds))
        while state.order.count > maxEntries || (state.order.first.flatMap { state.letters[$0] }.map { $0.failedAt < oldest } ?? false) {
            let id = state.order.removeFirst()
            state.letters[id] = nil
            dropped.append(id)
        }
        return dropped
    }

    /// Appends lines and fsyncs.
    private func write(_ lines: [Line]) throws {
        var data = Data()
        for line in lines {
            data.append(try DeadLetter.encoder.encode(line))
            data.append(0x0A)
        }
        try writing.withLock { _ in
            // O_APPEND: every write lands at the end, whatever else appended meanwhile.
            let fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
            guard fd >= 0 else { throw DeadLetterError("cannot open \(path) for writing (errno \(errno))") }
            defer { close(fd) }
            let written = data.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
            guard written == data.count else { throw DeadLetterError("could not write \(path) (errno \(errno))") }
            guard fsync(fd) == 0 else { throw DeadLetterError("could not fsync \(path) (errno \(errno))") }
        }
    }

    /// Writes the live letters to a new file and renames it over the old one.
    private func rewrite() throws {
        let live = state.withLock { state in state.order.compactMap { state.letters[$0] } }
        var data = Data()
        for letter in live {
            data.append(try DeadLetter.encoder.encode(Line(op: "add", letter: letter)))
            data.append(0x0A)
        }
        let temporary = path + ".tmp"
        try writing.withLock { _ in
            guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: 0o600]),
                let handle = FileHandle(forWritingAtPath: temporary)
            else { throw DeadLetterError("cannot write \(temporary)") }
            try handle.synchronize()
            try handle.close()
            guard rename(temporary, path) == 0 else { throw DeadLetterError("cannot replace \(path) (errno \(errno))") }
        }
        state.withLock { $0.lines = live.count }
    }
}
