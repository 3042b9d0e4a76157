import Foundation
import NIOCore
import Synchronization
import TestSupport
import Testing

@testable import RedisClient

@Suite("RESP3 client against a real redis-server", .serialized)
struct RedisServerTests {
    @Test("commands, binary-safe values, error replies, pipelining order, scripts")
    func commands() async throws {
        let server = try await RedisServerProcess()
        defer { server.stop() }
        var configuration = RedisConfiguration(url: RedisURL(host: "127.0.0.1", port: server.port, database: 3))
        configuration.commandTimeout = .seconds(15)  // the test suite runs in parallel on 2 cores: not a latency test
        let redis = try await RedisConnection.connect(configuration)
        defer { Task { await redis.close() } }
        #expect(try await redis.send(["SET", "k", "a\r\nb\u{0}c"]) == .simpleString("OK"))
        #expect(try await redis.send(["GET", "k"]) == .bulkString(Array("a\r\nb\u{0}c".utf8)))
        #expect(try await redis.send(["GET", "missing"]) == .null)
        await #expect(throws: RedisError.self) { try await redis.send(["INCR", "k"]) }
        let replies = try await redis.pipeline((0..<200).map { _ in ["INCR", "counter"] })
        #expect(replies.map { $0.int } == (1...200).map { Int64($0) })
        #expect(try await redis.send(["HSET", "h", "a", "1", "b", "2"]).int == 2)
        if case .map(let pairs) = try await redis.send(["HGETALL", "h"]) { #expect(pairs.count == 2) } else { Issue.record("HGETALL should be a RESP3 map") }
        // EVALSHA with the NOSCRIPT fallback a caller needs after a server restart.
        let script = "return redis.call('INCRBY', KEYS[1], ARGV[1])"
        await #expect(throws: RedisError.server("NOSCRIPT No matching script. Please use EVAL.")) {
            try await redis.send(["EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", "1", "x", "1"])
        }
        let sha = try #require(try await redis.send(["SCRIPT", "LOAD", script]).string)
        #expect(try await redis.send(["EVALSHA", sha, "1", "x", "5"]).int == 5)
        #expect(try await redis.send(["SELECT", "3"]) == .simpleString("OK"))  // the URL's database was selected
        #expect(try await redis.send(["DBSIZE"]).int == 4)
    }

    @Test("authentication: the right password connects, a wrong one is a clear error")
    func auth() async throws {
        let server = try await RedisServerProcess(password: "s3cret")
        defer { server.stop() }
        let good = try await RedisConnection.connect(RedisConfiguration(url: try RedisURL(parsing: "redis://127.0.0.1:\(server.port)"), password: "s3cret"))
        #expect(try await good.send(["PING"]) == .simpleString("PONG"))
        await good.close()
        await #expect(throws: RedisError.self) {
            _ = try await RedisConnection.connect(RedisConfiguration(url: try RedisURL(parsing: "redis://127.0.0.1:\(server.port)"), password: "wrong"))
        }
    }

    @Test("pub/sub messages arrive as push messages")
    func pubsub() async throws {
        let server = try await RedisServerProcess()
        defer { server.stop() }
        let url = RedisURL(host: "127.0.0.1", port: server.port)
        let subscriber = try await RedisConnection.connect(RedisConfiguration(url: url))
        let publisher = try await RedisConnection.connect(RedisConfiguration(url: url))
        var pushes = subscriber.pushes.makeAsyncIterator()
        _ = try await subscriber.pipeline([["SUBSCRIBE", "session:1"]])
        let confirmation = await pushes.next()
        #expect(confirmation?.first?.string == "subscribe")
        #expect(try await publisher.send(["PUBLISH", "session:1", "hello"]).int == 1)
        let message = await pushes.next()
        #expect(message?.map(\.string) == ["message", "session:1", "hello"])
        await subscriber.close()
        await publisher.close()
    }

    @Test("a server that stops answering: the command times out, the connection closes, nothing hangs")
    func timeout() async throws {
        let server = try await RedisServerProcess()
        defer { server.stop() }
        var configuration = RedisConfiguration(url: RedisURL(host: "127.0.0.1", port: server.port))
        configuration.commandTimeout = .milliseconds(300)
        let redis = try await RedisConnection.connect(configuration)
        let start = ContinuousClock.now
        // DEBUG SLEEP blocks the server for longer than the timeout.
        await #expect(throws: RedisError.timeout(command: "DEBUG")) { try await redis.send(["DEBUG", "SLEEP", "2"]) }
        #expect(ContinuousClock.now - start < .seconds(2))
        #expect(!redis.isOpen)
        await #expect(throws: RedisError.connectionClosed) { try await redis.send(["PING"]) }
    }

    @Test("the pool reuses at most its size of connections under concurrency")
    func poolBounds() async throws {
        let server = try await RedisServerProcess()
        defer { server.stop() }
        // 200 commands queue for 4 connections: on a machine busy with other suites that can take
        // longer than the default 2 s wait.
        var configuration = RedisConfiguration(url: RedisURL(host: "127.0.0.1", port: server.port))
        configuration.commandTimeout = .seconds(20)
        let pool = RedisConnectionPool(configuration: configuration, maxConnections: 4)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<200 {
                group.addTask { _ = try await pool.send(["INCR", "n\(index % 7)"]) }
            }
            try await group.waitForAll()
        }
        #expect(await pool.openConnections <= 4)
        let total = try await (0..<7).asyncMap { try await pool.send(["GET", "n\($0)"]).int ?? 0 }.reduce(0, +)
        #expect(total == 200)
        await pool.shutdown()
    }

    @Test("Redis down: fast, clear, retryable errors; back up: the pool reconnects by itself")
    func outageAndRecovery() async throws {
        let server = try await RedisServerProcess()
        let port = server.port
        var configuration = RedisConfiguration(url: RedisURL(host: "127.0.0.1", port: port))
        configuration.commandTimeout = .milliseconds(500)
        let pool = RedisConnectionPool(configuration: configuration, maxConnections: 2)
        #expect(try await pool.send(["SET", "k", "v"]) == .simpleString("OK"))
        server.stop()
        let start = ContinuousClock.now
        var sawUnavailable = false
        for _ in 0..<5 {
            do {
                _ = try await pool.send(["GET", "k"])
                Issue.record("a command succeeded with Redis down")
            } catch let error as RedisError {
                if case .unavailable = error { sawUnavailable = true; #expect(error.description.contains("retry after")) }
            }
        }
        #expect(sawUnavailable)
        #expect(ContinuousClock.now - start < .seconds(3), "errors must come fast, not after timeouts")
        let restarted = try await RedisServerProcess(port: port)
        defer { restarted.stop() }
        let deadline = ContinuousClock.now + .seconds(10)
        var recovered = false
        while ContinuousClock.now < deadline {
            if (try? await pool.send(["PING"])) == .simpleString("PONG") { recovered = true; break }
            try await Task.sleep(for: .milliseconds(100))  // the pool's backoff, polled
        }
        #expect(recovered)
        await pool.shutdown()
    }

    @Test("nothing listening: connecting fails fast with the address in the message")
    func refused() async throws {
        let port = freeLoopbackPort()
        do {
            _ = try await RedisConnection.connect(RedisConfiguration(url: RedisURL(host: "127.0.0.1", port: port)))
            Issue.record("expected an error")
        } catch let error as RedisError {
            #expect(error.description.contains("127.0.0.1:\(port)"))
        }
    }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
