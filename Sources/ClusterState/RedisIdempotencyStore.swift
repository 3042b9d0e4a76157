import Foundation
import RedisClient
import Resilience

/// Idempotency keys in Redis (`<prefix>idem:<digest>`), shared by the replicas, so a client's
/// retry that lands on another replica still finds the first run. Each operation is one script
/// (claim = read-or-set with the lease as TTL; complete/release only by the claim's token).
public struct RedisIdempotencyStore: IdempotencyStore {
    let pool: RedisConnectionPool
    let keys: ClusterKeys

    /// Round trips are bounded by the pool's command timeout; a store that does not answer
    /// refuses the call (fail closed: running anyway could run a write twice).
    public init(pool: RedisConnectionPool, keys: ClusterKeys) {
        self.pool = pool
        self.keys = keys
    }

    static let claimScript = RedisScript(
        name: "idempotency_claim",
        source: """
            local current = redis.call('GET', KEYS[1])
            if current then return {'held', current, redis.call('PTTL', KEYS[1])} end
            redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
            return {'claimed'}
            """)

    /// Replaces the record with ARGV[2] (for ARGV[3] ms) — or deletes it when ARGV[2] is empty —
    /// only while it is the pending claim of token ARGV[1].
    static let settleScript = RedisScript(
        name: "idempotency_settle",
        source: """
            local current = redis.call('GET', KEYS[1])
            if not current then return 0 end
            local record = cjson.decode(current)
            if record.token ~= ARGV[1] or record.state ~= 'pending' then return 0 end
            if ARGV[2] == '' then return redis.call('DEL', KEYS[1]) end
            redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
            return 1
            """)

    public func claim(_ key: String, fingerprint: String, lease: Duration) async throws -> IdempotencyClaim {
        let token = UUID().uuidString
        let pending = IdempotencyRecord(state: .pending, fingerprint: fingerprint, token: token)
        let reply = try await pool.run(Self.claimScript, keys: [keys.idempotency(key)], arguments: [pending.encoded, RedisAuthStateStore.milliseconds(lease)])
        guard let parts = reply.elements, let verdict = parts.first?.string else { throw RedisError.protocolViolation("idempotency claim answered \(reply)") }
        if verdict == "claimed" { return .claimed(token: token) }
        guard parts.count == 3, let text = parts[1].string, let record = IdempotencyRecord(decoding: text) else {
            throw RedisError.protocolViolation("an idempotency record is unreadable")
        }
        switch record.state {
        case .pending: return .inProgress(fingerprint: record.fingerprint, retryAfter: .milliseconds(max(0, parts[2].int ?? 0)))
        case .done: return .completed(fingerprint: record.fingerprint, result: record.result ?? "")
        }
    }

    public func complete(_ key: String, token: String, fingerprint: String, result: String, retention: Duration) async throws {
        let done = IdempotencyRecord(state: .done, fingerprint: fingerprint, token: token, result: result)
        _ = try await pool.run(Self.settleScript, keys: [keys.idempotency(key)], arguments: [token, done.encoded, RedisAuthStateStore.milliseconds(retention)])
    }

    public func release(_ key: String, token: String) async throws {
        _ = try await pool.run(Self.settleScript, keys: [keys.idempotency(key)], arguments: [token, "", "0"])
    }
}
