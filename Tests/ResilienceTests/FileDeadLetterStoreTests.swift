import Foundation
import Testing

@testable import Resilience

@Suite("Dead letters in a local file")
struct FileDeadLetterStoreTests {
    static func directory() -> String {
        let path = NSTemporaryDirectory() + "qlik-mcp-dlq-" + UUID().uuidString
        return path
    }

    static func letter(_ operation: String = "reload_app", failedAt: Date = Date()) -> DeadLetter {
        DeadLetter(operation: operation, arguments: #"{"app_id":"sales"}"#, principal: "p-1", errorCode: "RELOAD_FAILED", errorMessage: "boom", attempts: 1, failedAt: failedAt)
    }

    @Test("letters survive a restart (a new store on the same directory), removals too; a torn last line is skipped")
    func survivesRestart() async throws {
        let directory = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try FileDeadLetterStore(directory: directory)
        let first = Self.letter()
        let second = Self.letter("update_variable")
        let third = Self.letter()
        for letter in [first, second, third] { try await store.append(letter) }
        #expect(try await store.remove(second.id))
        #expect(try await !store.remove("dl-unknown"))
        // A crash in the middle of a write leaves half a line.
        let handle = try #require(FileHandle(forWritingAtPath: directory + "/dead-letters.jsonl"))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(#"{"op":"add","letter":{"id":"#.utf8))
        try handle.close()
        let reopened = try FileDeadLetterStore(directory: directory)
        #expect(try await reopened.list(limit: 10).map(\.id) == [first.id, third.id])
        let read = try #require(try await reopened.get(first.id))
        #expect(read.operation == first.operation && read.arguments == first.arguments && read.principal == first.principal && read.errorCode == first.errorCode)
        #expect(abs(read.failedAt.timeIntervalSince(first.failedAt)) < 0.001)
        #expect(reopened.skippedLines == 1)
        let attributes = try FileManager.default.attributesOfItem(atPath: directory + "/dead-letters.jsonl")
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
    }

    @Test("bounded by count (oldest dropped) and by retention; many removals compact the file")
    func boundsAndCompaction() async throws {
        let directory = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try FileDeadLetterStore(directory: directory, maxEntries: 5, retention: .seconds(3_600))
        var ids: [String] = []
        for _ in 0..<8 {
            let letter = Self.letter()
            ids.append(letter.id)
            try await store.append(letter)
        }
        #expect(try await store.list(limit: 100).map(\.id) == Array(ids.suffix(5)))
        try await store.append(Self.letter(failedAt: Date().addingTimeInterval(-7_200)))  // already past the retention
        #expect(try await store.count() <= 5)
        for id in ids.suffix(5) { try await store.remove(id) }
        for _ in 0..<40 {
            let letter = Self.letter()
            try await store.append(letter)
            try await store.remove(letter.id)
        }
        let lines = try String(contentsOfFile: directory + "/dead-letters.jsonl", encoding: .utf8).split(separator: "\n").count
        #expect(lines < 100, "the file was compacted (\(lines) lines)")
        #expect(try await FileDeadLetterStore(directory: directory).count() == (try await store.count()))
    }

    @Test("an unusable directory is a clear error")
    func unusableDirectory() {
        #expect(throws: (any Error).self) { try FileDeadLetterStore(directory: "/proc/qlik-mcp-not-here") }
    }
}
