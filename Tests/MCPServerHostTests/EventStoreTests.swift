import Foundation
import Testing

@testable import ClusterState
@testable import MCPServerHost

@Suite("event store and host checks")
struct EventStoreTests {
    func data(_ text: String) -> Data { Data(text.utf8) }

    @Test("replays the same stream after the given id, nothing else")
    func replay() {
        var store = EventStore(maxEvents: 10, maxBytes: 1_000)
        let priming = store.primingID(stream: "get")
        let a = store.append(stream: "get", data: data("a")).id
        _ = store.append(stream: "r1", data: data("x"))
        _ = store.append(stream: "get", data: data("b"))
        guard case .events(let stream, let events) = store.replay(after: priming) else { Issue.record("no replay"); return }
        #expect(stream == "get" && events.map { String(decoding: $0.1, as: UTF8.self) } == ["a", "b"])
        guard case .events(_, let after) = store.replay(after: a) else { Issue.record("no replay"); return }
        #expect(after.map { String(decoding: $0.1, as: UTF8.self) } == ["b"])
        #expect(store.replay(after: "garbage").isUnavailable)
        #expect(store.replay(after: "get-999").isUnavailable)
    }

    @Test("bounded by count and bytes; a position before evicted events cannot be replayed")
    func bounded() {
        var store = EventStore(maxEvents: 3, maxBytes: 1_000_000)
        let first = store.append(stream: "get", data: data("1")).id
        var evicted = 0
        for index in 2...10 { evicted += store.append(stream: "get", data: data("\(index)")).evicted }
        #expect(store.count == 3 && evicted == 7 && store.evicted == 7)
        #expect(store.replay(after: first).isUnavailable)
        var small = EventStore(maxEvents: 100, maxBytes: 10)
        for _ in 0..<5 { _ = small.append(stream: "get", data: data("123456")) }
        #expect(small.bytes <= 10 && small.count == 1)
    }

    @Test("Host and Origin patterns with port wildcards")
    func hostOrigin() {
        #expect(HostOriginValidator.matches("localhost:8080", "localhost:*"))
        #expect(!HostOriginValidator.matches("localhost.evil.com:8080", "localhost:*"))
        #expect(!HostOriginValidator.matches("localhost:", "localhost:*"))
        #expect(HostOriginValidator.matches("LOCALHOST", "localhost"))
        #expect(!HostOriginValidator.matches("http://localhost:80x", "http://localhost:*"))
    }
}

extension Replay {
    var isUnavailable: Bool {
        if case .unavailable = self { return true }
        return false
    }
}
