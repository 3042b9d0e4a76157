import Foundation
import RedisClient
import Resilience

/// Dead letters in a Redis stream (`<prefix>dlq`), shared by the replicas: `XADD` (trimmed to
/// `maxEntries`), `XRANGE`/`XREVRANGE` to read, `XDEL` to remove. The letter is the entry's one
/// field (`letter`, JSON); the entry id is Redis's, the letter's id is kept inside.
public struct RedisDeadLetterStore: DeadLetterStore {
    let pool: RedisConnectionPool
    let key: String
    public let maxEntries: Int
    public let retention: Duration

    public init(pool: RedisConnectionPool, keys: ClusterKeys, maxEntries: Int = 10_000, retention: Duration = .seconds(7 * 86_400)) {
        self.pool = pool
        self.key = keys.deadLetters
        self.maxEntries = maxEntries
        self.retention = retention
    }

    public func append(_ letter: DeadLetter) async throws {
        let json = String(decoding: try DeadLetter.encoder.encode(letter), as: UTF8.self)
        let minimumID = Int64(Date().timeIntervalSince1970 * 1000) - retention.components.seconds * 1000
        let replies = try await pool.pipeline(
            [["XADD", key, "MAXLEN", "~", String(maxEntries), "*", "letter", json], ["XTRIM", key, "MINID", String(max(0, minimumID))]],
            operation: "dlq_append")
        if let message = replies.first?.errorMessage { throw RedisError.server(message) }
    }

    /// Entries as (stream id, letter).
    private func entries(_ reply: RESPValue) -> [(String, DeadLetter)] {
        (reply.elements ?? []).compactMap { entry in
            guard let parts = entry.elements, parts.count == 2, let id = parts[0].string, let fields = parts[1].elements, fields.count >= 2,
                let json = fields[1].string, let letter = try? DeadLetter.decoder.decode(DeadLetter.self, from: Data(json.utf8))
            else { return nil }
            return (id, letter)
        }
    }

    public func list(limit: Int) async throws -> [DeadLetter] {
        let reply = try await pool.send(["XREVRANGE", key, "+", "-", "COUNT", String(max(1, min(limit, 10_000)))])
        return entries(reply).map(\.1).reversed()
    }

    private func find(_ id: String) async throws -> (String, DeadLetter)? {
        // Letters are found by their own id; the stream is bounded, so a scan of it is too.
        let reply = try await pool.send(["XRANGE", key, "-", "+", "COUNT", String(maxEntries)])
        return entries(reply).first { $0.1.id == id }
    }

    public func get(_ id: String) async throws -> DeadLetter? { try await find(id)?.1 }

    @discardableResult
    public func remove(_ id: String) async throws -> Bool {
        guard let (streamID, _) = try await find(id) else { return false }
        return (try await pool.send(["XDEL", key, streamID]).int ?? 0) > 0
    }

    public func count() async throws -> Int { Int(try await pool.send(["XLEN", key]).int ?? 0) }
}
