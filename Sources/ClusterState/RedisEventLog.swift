import Foundation
import RedisClient

/// A session's SSE events in a Redis stream, shared by every replica: a client whose stream
/// broke on one replica resumes with `Last-Event-ID` on any other. Bounded like the in-process
/// log — at most `maxEvents` events and `maxBytes` bytes (oldest evicted first, in one Lua
/// script with the append) — and expiring with the session (TTL refreshed on every append and by
/// every request of the session). The entry ids are `0-<sequence>`, the session's own sequence.
public struct RedisEventLog: SessionEventLog {
    let pool: RedisConnectionPool
    let streamKey: String
    let metaKey: String
    let maxEvents: Int
    let maxBytes: Int
    let ttlMilliseconds: String

    public init(pool: RedisConnectionPool, keys: ClusterKeys, sessionID: String, maxEvents: Int, maxBytes: Int, ttl: Duration) {
        self.pool = pool
        self.streamKey = keys.events(sessionID)
        self.metaKey = keys.eventMeta(sessionID)
        self.maxEvents = max(1, maxEvents)
        self.maxBytes = max(1, maxBytes)
        self.ttlMilliseconds = String(max(1_000, ttl.components.seconds * 1_000))
    }

    public func append(stream: String, data: Data) async throws -> (id: String, evicted: Int) {
        let reply = try await pool.run(
            Self.appendScript, keys: [streamKey, metaKey],
            arguments: [stream, String(decoding: data, as: UTF8.self), String(maxEvents), String(maxBytes), ttlMilliseconds])
        guard let values = reply.elements, values.count == 2, let sequence = values[0].int, let evicted = values[1].int else {
            throw RedisError.protocolViolation("unexpected reply to the event append script")
        }
        return ("\(stream)-\(sequence)", Int(evicted))
    }

    public func primingID(stream: String) async throws -> String {
        let sequence = try await pool.send(["HGET", metaKey, "seq"]).string.flatMap { Int($0) } ?? 0
        return "\(stream)-\(sequence)"
    }

    public func replay(after lastEventID: String) async throws -> Replay {
        guard let (stream, position) = EventID.parse(lastEventID) else { return .unavailable }
        let replies = try await pool.pipeline(
            [["HMGET", metaKey, "seq", "evicted"], ["XRANGE", streamKey, "(0-\(position)", "+"]], operation: "events_replay")
        let meta = replies[0].elements ?? []
        let sequence = meta.first?.string.flatMap { Int($0) } ?? 0
        let evictedUpTo = meta.dropFirst().first?.string.flatMap { Int($0) } ?? 0
        // Anything evicted after the position could have belonged to this stream.
        guard position <= sequence, position >= evictedUpTo else { return .unavailable }
        var events: [(String, Data)] = []
        for entry in replies[1].elements ?? [] {
            guard let parts = entry.elements, parts.count == 2, let id = parts[0].string, let fields = parts[1].elements, fields.count == 4,
                fields[1].string == stream, let data = fields[3].string, let sequence = Int(id.dropFirst(2))
            else { continue }
            events.append(("\(stream)-\(sequence)", Data(data.utf8)))
        }
        return .events(stream: stream, events)
    }

    public func clear() async {
        _ = try? await pool.send(["DEL", streamKey, metaKey])
    }

    static let appendScript = RedisScript(
        name: "events_append",
        source: """
            local seq = redis.call('HINCRBY', KEYS[2], 'seq', 1)
            redis.call('XADD', KEYS[1], '0-' .. seq, 's', ARGV[1], 'd', ARGV[2])
            local bytes = redis.call('HINCRBY', KEYS[2], 'bytes', #ARGV[2])
            local length = redis.call('XLEN', KEYS[1])
            local evicted = 0
            while length > tonumber(ARGV[3]) or (bytes > tonumber(ARGV[4]) and length > 1) do
              local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1]
              redis.call('XDEL', KEYS[1], first[1])
              bytes = redis.call('HINCRBY', KEYS[2], 'bytes', -#first[2][4])
              redis.call('HSET', KEYS[2], 'evicted', string.sub(first[1], 3))
              length = length - 1
              evicted = evicted + 1
            end
            redis.call('PEXPIRE', KEYS[1], ARGV[5])
            redis.call('PEXPIRE', KEYS[2], ARGV[5])
            return {seq, evicted}
            """)
}
