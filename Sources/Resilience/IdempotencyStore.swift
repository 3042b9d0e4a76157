import Foundation
import Synchronization

/// What an idempotency key holds: a claim while its operation runs, then the operation's result.
public struct IdempotencyRecord: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable {
        case pending, done
    }

    public var state: State
    /// Digest of the operation and its arguments: the same key with other arguments is refused.
    public var fingerprint: String
    /// Unique per claim, so that only the claimant completes or releases it.
    public var token: String
    /// The operation's result (`done` only), as the caller encoded it.
    public var result: String?

    public init(state: State, fingerprint: String, token: String, result: String? = nil) {
        self.state = state
        self.fingerprint = fingerprint
        self.token = token
        self.result = result
    }

    /// The record as stored (compact JSON, keys sorted).
    public var encoded: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    public init?(decoding text: String) {
        guard let record = try? JSONDecoder().decode(Self.self, from: Data(text.utf8)) else { return nil }
        self = record
    }
}

/// What `claim` found.
public enum IdempotencyClaim: Sendable, Equatable {
    /// The key was free: the caller runs the operation and then completes or releases it.
    case claimed(token: String)
    /// Another call with this key is running (its claim ends in `retryAfter` at the latest).
    case inProgress(fingerprint: String, retryAfter: Duration)
    /// The operation already ran; here is its result.
    case completed(fingerprint: String, result: String)
}

/// Where idempotency keys live: in process (`MemoryIdempotencyStore`) or in Redis, shared by the
/// replicas (`ClusterState.RedisIdempotencyStore`). Keys arrive already scoped and hashed.
public protocol IdempotencyStore: Sendable {
    /// Claims `key` for `lease` (a crashed claimant's key frees itself), or says what it holds.
    func claim(_ key: String, fingerprint: String, lease: Duration) async throws -> IdempotencyClaim
    /// Stores the result of the claim `token` for `retention`.
    func complete(_ key: String, token: String, fingerprint: String, result: String, retention: Duration) async throws
    /// Gives the key up (the operation failed: the caller may try again with the same key).
    func release(_ key: String, token: String) async throws
}

/// Idempotency keys in this process: bounded (`maxEntries`; expired records go first, then the
/// oldest results; running claims are never dropped — a full store of running claims refuses).
public final class MemoryIdempotencyStore: IdempotencyStore {
    private struct Entry {
        var record: IdempotencyRecord
        var expires: ContinuousClock.Instant
    }

    /// The store is full of running operations.
    public struct Full: Error, CustomStringConvertible {
        public var description: String { "too many operations with idempotency keys are running at once" }
    }

    public let maxEntries: Int
    private let entries = Mutex<[String: Entry]>([:])

    public init(maxEntries: Int = 10_000) {
        self.maxEntries = max(1, maxEntries)
    }

    public func claim(_ key: String, fingerprint: String, lease: Duration) async throws -> IdempotencyClaim {
        let now = ContinuousClock.now
        return try entries.withLock { entries in
            if let entry = entries[key], entry.expires > now {
                switch entry.record.state {
                case .pending: return .inProgress(fingerprint: entry.record.fingerprint, retryAfter: entry.expires - now)
                case .done: return .completed(fingerprint: entry.record.fingerprint, result: entry.record.result ?? "")
                }
            }
            if entries[key] == nil, entries.count >= maxEntries { try Self.makeRoom(&entries, now: now) }
            let token = UUID().uuidString
            entries[key] = Entry(record: IdempotencyRecord(state: .pending, fingerprint: fingerprint, token: token), expires: now + lease)
            return .claimed(token: token)
        }
    }

    public func complete(_ key: String, token: String, fingerprint: String, result: String, retention: Duration) async throws {
        entries.withLock { entries in
            guard entries[key]?.record.token == token else { return }
            entries[key] = Entry(record: IdempotencyRecord(state: .done, fingerprint: fingerprint, token: token, result: result), expires: .now + retention)
        }
    }

    public func release(_ key: String, token: String) async throws {
        entries.withLock { entries in
            if entries[key]?.record.token == token, entries[key]?.record.state == .pending { entries[key] = nil }
        }
    }

    /// Records held (expired ones included until they are pushed out).
    public var count: Int { entries.withLock { $0.count } }

    private static func makeRoom(_ entries: inout [String: Entry], now: ContinuousClock.Instant) throws {
        let expired = entries.filter { $0.value.expires <= now }.map(\.key)
        if !expired.isEmpty {
            for key in expired { entries[key] = nil }
            return
        }
        guard let oldest = entries.filter({ $0.value.record.state == .done }).min(by: { $0.value.expires < $1.value.expires })?.key else { throw Full() }
        entries[oldest] = nil
    }
}
