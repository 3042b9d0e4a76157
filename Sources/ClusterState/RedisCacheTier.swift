import Foundation
import JSONCore
import RedisClient
import ToolCache

/// The tool cache's shared tier in Redis (`--cache redis`): one string per answer with a TTL
/// (`SET … PX`), the flush generations in one hash (`HINCRBY`), and cache events on one pub/sub
/// channel. Every replica of a deployment uses the same keys, so an answer computed on one is a
/// hit on the others, and a flush or reload on one drops the answers on all.
public struct RedisCacheTier: SharedCacheTier {
    let pool: RedisConnectionPool
    let subscriber: RedisSubscriber
    let keys: ClusterKeys

    public init(pool: RedisConnectionPool, subscriber: RedisSubscriber, keys: ClusterKeys) {
        self.pool = pool
        self.subscriber = subscriber
        self.keys = keys
    }

    public func get(_ key: String) async throws -> Data? {
        switch try await pool.send(["GET", keys.cacheEntry(key)]) {
        case .bulkString(let bytes): return Data(bytes)
        case .null: return nil
        case let other:
            if let message = other.errorMessage { throw RedisError.server(message) }
            return nil
        }
    }

    public func set(_ key: String, _ value: Data, ttl: Duration) async throws {
        let milliseconds = max(1, ttl.components.seconds * 1000 + ttl.components.attoseconds / 1_000_000_000_000_000)
        let reply = try await pool.send(["SET", keys.cacheEntry(key), String(decoding: value, as: UTF8.self), "PX", String(milliseconds)])
        if let message = reply.errorMessage { throw RedisError.server(message) }
    }

    public func generations() async throws -> [String: Int64] {
        let reply = try await pool.send(["HGETALL", keys.cacheGenerations])
        var table: [String: Int64] = [:]
        switch reply {
        case .map(let pairs):
            for (field, value) in pairs { if let name = field.string, let number = value.int { table[name] = number } }
        default:
            let items = reply.elements ?? []
            for index in stride(from: 0, to: items.count - 1, by: 2) {
                if let name = items[index].string, let number = items[index + 1].int { table[name] = number }
            }
        }
        return table
    }

    public func bumpGeneration(_ scope: String) async throws -> Int64 {
        let reply = try await pool.send(["HINCRBY", keys.cacheGenerations, scope, "1"])
        guard let value = reply.int else { throw RedisError.protocolViolation("HINCRBY answered \(reply)") }
        return value
    }

    public func publish(_ event: CacheEvent) async throws {
        try await pool.send(["PUBLISH", keys.cacheEvents, Self.encode(event)])
    }

    public func listen(_ onEvent: @escaping @Sendable (CacheEvent) -> Void, resync: @escaping @Sendable () -> Void) async throws {
        _ = try await subscriber.subscribe(keys.cacheEvents) { delivery in
            switch delivery {
            case .resubscribed: resync()
            case .message(let text): if let event = Self.decode(text) { onEvent(event) }
            }
        }
    }

    static func encode(_ event: CacheEvent) -> String {
        switch event {
        case .flushed(let app, let generation):
            var object: [String: JSONValue] = ["k": "flushed", "g": .number(Double(generation))]
            object["a"] = app.map { .string($0) }
            return JSONCoding.serialize(.object(object))
        case .reloaded(let app, let version):
            return JSONCoding.serialize(["k": "reloaded", "a": .string(app), "v": .string(version)])
        }
    }

    static func decode(_ text: String) -> CacheEvent? {
        guard let value = try? JSONCoding.parse(text) else { return nil }
        switch value["k"]?.stringValue {
        case "flushed":
            guard let generation = value["g"]?.intValue else { return nil }
            return .flushed(app: value["a"]?.stringValue, generation: Int64(generation))
        case "reloaded":
            guard let app = value["a"]?.stringValue, let version = value["v"]?.stringValue else { return nil }
            return .reloaded(app: app, version: version)
        default: return nil
        }
    }
}
