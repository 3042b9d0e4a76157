import ClusterState
import Foundation
import Logging
import MCPAuth
import TestSupport
import Testing

@testable import RedisClient

/// The shared-state building blocks against a real `redis-server`.
@Suite("cluster state on Redis")
struct ClusterStateTests {
    /// A generous command timeout: the suites run in parallel on 2 cores; these are not latency tests.
    static func configuration(_ server: RedisServerProcess) -> RedisConfiguration {
        var configuration = RedisConfiguration(url: RedisURL(host: "127.0.0.1", port: server.port))
        configuration.commandTimeout = .seconds(15)
        return configuration
    }

    static func pool(_ server: RedisServerProcess) -> RedisConnectionPool {
        RedisConnectionPool(configuration: configuration(server))
    }

    @Test("scripts run by SHA and are loaded again after SCRIPT FLUSH (a restarted Redis)")
    func scripts() async throws {
        let server = try await RedisServerProcess()
        defer { server.stop() }
        let pool = Self.pool(server)
        let script = RedisScript(name: "echo", source: "return ARGV[1] .. KEYS[1]")
        #expect(script.sha1.count == 40)
        #expect(try await pool.run(script, keys: ["k"], arguments: ["v"]).string == "vk")
        try await pool.send(["SCRIPT", "FLUSH"])
        #expect(try await pool.run(script, keys: ["x"], arguments: ["y"]).string == "yx")
        await pool.shutdown()
    }

    @Test("sessions: a cluster-wide limit, touch refreshes, update keeps the TTL, delete ends it")
    func sessions() async throws {
        let server = try await RedisServerProcess()
        defer { server.stop() }
        let pool = Self.pool(server)
        let store = RedisSessionStore(pool: pool, keys: ClusterKeys(prefix: "t:"), idleTimeout: .seconds(60))
        let records = (0..<3).map { SessionRecord(id: "s\($0)", kind: "http", owner: "alice", initializeParams: #"{"protocolVersion":"2025-06-18"}"#) }
        #expect(try await store.create(records[0], maxSessions: 2) == .created)
        #expect(try await store.create(records[1], maxSessions: 2) == .created)
        #expect(try await store.create(records[2], maxSessions: 2) == .full(limit: 2))
        #expect(try await store.count() == 2)
        var touched = try #require(try await store.touch("s0"))
        #expect(touched == records[0])
        let ttl = try await pool.send(["PTTL", "t:session:s0"]).int ?? 0
        #expect(ttl > 50_000 && ttl <= 60_000)
        touched.toolsets = ["analytics"]
        #expect(try await store.update(touched))
        #expect(try await store.touch("s0")?.toolsets == ["analytics"])
        try await store.delete("s0")
        #expect(try await store.touch("s0") == nil)
        #expect(try await store.update(touched) == false)  // a deleted session is not brought back
        #expect(try await store.create(records[2], maxSessions: 2) == .created)  // its slot is free again
        // A record that expired in Redis (its key gone) no longer counts.
        try await pool.send(["DEL", "t:session:s1"])
        #expect(try await store.touch("s1") == nil)
        #expect(try await store.count() == 1)
        await pool.shutdown()
    }

    @Test("event log: ids per session, replay of one stream from any instance, eviction by count and bytes")
    func eventLog() async throws {
        let server = try await RedisServerProcess()
        defer { server.stop() }
        let pool = Self.pool(server)
        let keys = ClusterKeys(prefix: "t:")
        let log = RedisEventLog(pool: pool, keys: keys, sessionID: "s", maxEvents: 4, maxBytes: 1_000, ttl: .seconds(60))
        #expect(try await log.primingID(stream: "get") == "get-0")
        #expect(try await log.append(stream: "get", data: Data("a".utf8)).id == "get-1")
        #expect(try await log.append(stream: "r1", data: Data("b".utf8)).id == "r1-2")
        #expect(try await log.append(stream: "get", data: Data(#"{"x":"c\nd"}"#.utf8)).id == "get-3")
        // Another replica's view of the same session.
        let other = RedisEventLog(pool: pool, keys: keys, sessionID: "s", maxEvents: 4, maxBytes: 1_000, ttl: .seconds(60))
        guard case .events(let stream, let events) = try await other.replay(after: "get-1") else { Issue.record("no replay"); return }
        #expect(stream == "get")
        #expect(events.map(\.0) == ["get-3"])
        #expect(events.map { String(decoding: $0.1, as: UTF8.self) } == [#"{"x":"c\nd"}"#])
        guard case .events(_, let none) = try await other.replay(after: "get-3") else { Issue.record("no replay"); return }
        #expect(none.isEmpty)
        if case .events = try await other.replay(after: "get-99") { Issue.record("a future position must not replay") }
        if case .events = try await other.replay(after: "garbage") { Issue.record("a malformed id must not replay") }
        // Two more events evict the oldest (count 4): replay from before the eviction is refused.
        _ = try await log.append(stream: "get", data: Data("e".utf8))
        let (_, evicted) = try await log.append(stream: "get", data: Data("f".utf8))
        #expect(evicted == 1)
        if case .events = try await other.replay(after: "get-0") { Issue.record("evicted events must make the replay unavailable") }
        guard case .events(_, let recent) = try await other.replay(after: "get-3") else { Issue.record("no replay"); return }
        #expect(recent.map(\.0) == ["get-4", "get-5"])
        // A large event evicts by bytes, keeping at least itself.
        let big = Data(repeating: UInt8(ascii: "z"), count: 990)
        let (id, dropped) = try await log.append(stream: "get", data: big)
        #expect(dropped == 2)  // r1-2 (count) and get-3 (bytes: 1,003 > 1,000)
        if case .events = try await other.replay(after: "get-2") { Issue.record("events evicted by bytes must make the replay unavailable") }
        guard case .events(_, let last) = try await other.replay(after: "get-3") else { Issue.record("no replay"); return }
        #expect(last.map(\.0) == ["get-4", "get-5", id])
        #expect(try await pool.send(["PTTL", "t:events:s"]).int ?? 0 > 0)
        await log.clear()
        #expect(try await pool.send(["EXISTS", "t:events:s", "t:events-meta:s"]).int == 0)
        await pool.shutdown()
    }

    @Test("the bus: messages between replicas, own messages skipped, resubscribed after the connection drops")
    func bus() async throws {
        let server = try await RedisServerProcess()
        defer { server.stop() }
        let configuration = Self.configuration(server)
        let pool = RedisConnectionPool(configuration: configuration)
        let subscriber = RedisSubscriber(configuration: configuration)
        let keys = ClusterKeys(prefix: "t:")
        let here = SessionBus(pool: pool, subscriber: subscriber, keys: keys, replicaID: "a")
        let there = SessionBus(pool: pool, subscriber: RedisSubscriber(configuration: configuration), keys: keys, replicaID: "b")
        let (inbox, continuation) = AsyncStream<String>.makeStream()
        let subscription = try await here.listen(
            session: "s",
            onMessage: { message in
                if case .event(_, let id, _) = message { continuation.yield(id) }
                if case .takeover(let stream, _) = message { continuation.yield("takeover " + stream) }
            }, resync: { continuation.yield("resync") })
        var received = inbox.makeAsyncIterator()
        #expect(try await here.publish(.event(stream: "get", id: "get-1", data: "{}"), session: "s") == 1)  // its own: skipped
        #expect(try await there.publish(.event(stream: "get", id: "get-2", data: "{}"), session: "s") == 1)
        #expect(await received.next() == "get-2")
        try await pool.send(["CLIENT", "KILL", "TYPE", "pubsub"])
        #expect(await received.next() == "resync")
        #expect(try await there.publish(.takeover(stream: "r1", holder: "b/1"), session: "s") == 1)
        #expect(await received.next() == "takeover r1")
        await subscription.cancel()
        #expect(try await there.publish(.ended, session: "s") == 0)
        await subscriber.shutdown()
        await pool.shutdown()
    }

    @Test("OAuth state: one-time use holds under concurrent redemption")
    func authStore() async throws {
        let server = try await RedisServerProcess()
        defer { server.stop() }
        let pool = Self.pool(server)
        let store = RedisAuthStateStore(pool: pool, keys: ClusterKeys(prefix: "t:"))
        try await store.put(Data("code".utf8), namespace: "code", key: "k", ttl: .seconds(60))
        #expect(try await store.get(namespace: "code", key: "k") == Data("code".utf8))
        let taken = try await withThrowingTaskGroup(of: Data?.self) { group in
            for _ in 0..<20 { group.addTask { try await store.take(namespace: "code", key: "k") } }
            return try await group.reduce(into: [Data]()) { if let value = $1 { $0.append(value) } }
        }
        #expect(taken == [Data("code".utf8)])
        let claims = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<20 { group.addTask { try await store.claim(namespace: "refresh_used", key: "r", ttl: .seconds(60)) } }
            return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
        }
        #expect(claims == 1)
        // The TTL reaches Redis in milliseconds (long enough that a loaded CI cannot eat it between the two calls).
        try await store.put(Data([1]), namespace: "x", key: "short", ttl: .milliseconds(60_500))
        let ttl = try await pool.send(["PTTL", "t:auth:x:short"]).int ?? 0
        #expect(ttl > 50_000 && ttl <= 60_500)
        try await store.remove(namespace: "x", key: "short")
        #expect(try await store.get(namespace: "x", key: "short") == nil)
        server.stop()
        await #expect(throws: RedisError.self) { try await store.get(namespace: "code", key: "k") }
        await pool.shutdown()
    }
}
