import Crypto
import Foundation
import Synchronization

/// A bounded, expiring cache of what was learnt about a token, keyed by the token's SHA-256 (the
/// token itself is not kept). Used for validated JWTs (a client presenting the same token on every
/// request pays one signature check per minute) and for introspection answers.
///
/// An entry lives until the `until` it is stored with, capped at `maxAge`. Past `capacity`,
/// expired entries are dropped, then everything.
final class TokenCache<Value: Sendable>: Sendable {
    private struct Entry {
        let value: Value
        let until: Date
    }

    let capacity: Int
    let maxAge: TimeInterval
    private let entries = Mutex<[SHA256Digest: Entry]>([:])

    init(capacity: Int = 10_000, maxAge: TimeInterval = 60) {
        self.capacity = capacity
        self.maxAge = maxAge
    }

    func lookup(_ key: SHA256Digest, now: Date) -> Value? {
        entries.withLock { entries in
            guard let entry = entries[key] else { return nil }
            guard entry.until > now else {
                entries[key] = nil
                return nil
            }
            return entry.value
        }
    }

    func store(_ key: SHA256Digest, _ value: Value, until expires: Date, now: Date) {
        let until = min(expires, now.addingTimeInterval(maxAge))
        guard until > now else { return }
        entries.withLock { entries in
            if entries.count >= capacity {
                entries = entries.filter { $0.value.until > now }
                if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            }
            entries[key] = Entry(value: value, until: until)
        }
    }
}

/// The key under which a `TokenCache` keeps what it learnt about `token`.
func tokenCacheKey(_ token: String) -> SHA256Digest { SHA256.hash(data: Data(token.utf8)) }
