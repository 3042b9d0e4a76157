import Crypto
import Foundation
import Synchronization

/// Tokens that passed validation recently, so a client presenting the same access token on every
/// request pays one signature check per minute instead of one per request.
///
/// Keyed by the token's SHA-256 (the token itself is not kept). An entry lives until the token's
/// `exp` or `maxAge` (60 s), whichever is first — so a key removed from the issuer's set, or a
/// token whose grant was revoked, is noticed within that bound (revocation of this server's own
/// grants is checked on every request anyway). Bounded: past `capacity`, expired entries are
/// dropped, then everything.
final class ValidatedTokenCache: Sendable {
    private struct Entry {
        let principal: Principal
        let family: String?
        let until: Date
    }

    let capacity: Int
    let maxAge: TimeInterval
    private let entries = Mutex<[SHA256Digest: Entry]>([:])

    init(capacity: Int = 10_000, maxAge: TimeInterval = 60) {
        self.capacity = capacity
        self.maxAge = maxAge
    }

    static func key(_ token: String) -> SHA256Digest { SHA256.hash(data: Data(token.utf8)) }

    func lookup(_ key: SHA256Digest, now: Date) -> (principal: Principal, family: String?)? {
        entries.withLock { entries in
            guard let entry = entries[key] else { return nil }
            guard entry.until > now else {
                entries[key] = nil
                return nil
            }
            return (entry.principal, entry.family)
        }
    }

    func store(_ key: SHA256Digest, principal: Principal, family: String?, expires: Date, now: Date) {
        let until = min(expires, now.addingTimeInterval(maxAge))
        guard until > now else { return }
        entries.withLock { entries in
            if entries.count >= capacity {
                entries = entries.filter { $0.value.until > now }
                if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            }
            entries[key] = Entry(principal: principal, family: family, until: until)
        }
    }
}
