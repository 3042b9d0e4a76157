import Crypto
import Foundation

/// Runs an operation that is not idempotent by itself (a write, a reload) at most once per
/// idempotency key — the caller's retry with the same key gets the first run's result instead of
/// a second run — and, because of that, lets it be retried. Keys are scoped by the caller and the
/// operation (two callers' equal keys never meet) and bound to the arguments' fingerprint (the
/// same key with other arguments is refused, as in the IETF Idempotency-Key draft).
public struct Idempotency: Sendable {
    public let store: any IdempotencyStore
    /// How long a running operation holds its key (a crashed claimant's key frees itself after it).
    public var lease: Duration
    /// How long a result is kept for replays.
    public var retention: Duration

    public init(store: any IdempotencyStore, lease: Duration = .seconds(600), retention: Duration = .seconds(86_400)) {
        self.store = store
        self.lease = lease
        self.retention = retention
    }

    /// Why a call with a key did not run.
    public enum Refusal: Error, Sendable, Equatable {
        /// The key was used before with other arguments.
        case keyReused
        /// A call with this key is still running.
        case inProgress(retryAfter: Duration)
        /// The key store cannot be reached: running anyway could run the operation twice.
        case storeUnavailable(String)
    }

    /// What `run` did.
    public enum Outcome<Value: Sendable>: Sendable {
        case ran(Value)
        /// The key's earlier result, as `encode` wrote it.
        case replayed(String)
    }

    /// The longest key accepted, and the characters allowed (printable ASCII, as for header values).
    public static let maxKeyLength = 255

    /// Why `key` is not a valid idempotency key, or nil when it is.
    public static func problem(with key: String) -> String? {
        if key.isEmpty { return "is empty" }
        if key.utf8.count > maxKeyLength { return "is longer than \(maxKeyLength) characters" }
        if key.utf8.contains(where: { $0 < 0x20 || $0 > 0x7E }) { return "may hold printable ASCII characters only" }
        return nil
    }

    /// The store's key for `key` sent by `principal` for `operation` (SHA-256, hex).
    public static func scopedKey(_ key: String, principal: String, operation: String) -> String {
        digest([principal, operation, key])
    }

    /// The fingerprint of an operation's canonical arguments.
    public static func fingerprint(_ canonicalArguments: String) -> String { digest([canonicalArguments]) }

    private static func digest(_ parts: [String]) -> String {
        var hash = SHA256()
        for part in parts {
            withUnsafeBytes(of: UInt64(part.utf8.count).bigEndian) { hash.update(bufferPointer: $0) }
            hash.update(data: Data(part.utf8))
        }
        return hash.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// Runs `body` under `key` unless it ran before (then its encoded result is returned). A
    /// failure releases the key (the caller may try again with it); a result `encode` declines
    /// to keep (nil) releases it too.
    public func run<Value: Sendable>(
        key: String, fingerprint: String, encode: (Value) -> String?, _ body: () async throws -> Value
    ) async throws -> Outcome<Value> {
        let claim: IdempotencyClaim
        do {
            claim = try await store.claim(key, fingerprint: fingerprint, lease: lease)
        } catch {
            throw Refusal.storeUnavailable(String(describing: error))
        }
        switch claim {
        case .completed(let stored, let result):
            guard stored == fingerprint else { throw Refusal.keyReused }
            return .replayed(result)
        case .inProgress(let stored, let retryAfter):
            guard stored == fingerprint else { throw Refusal.keyReused }
            throw Refusal.inProgress(retryAfter: retryAfter)
        case .claimed(let token):
            let value: Value
            do {
                value = try await body()
            } catch {
                try? await store.release(key, token: token)
                throw error
            }
            if let encoded = encode(value) {
                // A result that cannot be kept leaves the claim until its lease ends: a retry in
                // that time is told to wait rather than running the operation a second time.
                try? await store.complete(key, token: token, fingerprint: fingerprint, result: encoded, retention: retention)
            } else {
                try? await store.release(key, token: token)
            }
            return .ran(value)
        }
    }
}
