import Foundation
import Synchronization
import TestSupport
import Testing

@testable import Resilience

@Suite("Idempotency keys")
struct IdempotencyTests {
    @Test("the in-process store keeps the store contract")
    func memoryContract() async throws {
        try await IdempotencyStoreContract.check(MemoryIdempotencyStore())
    }

    @Test("the in-process store is bounded: old results go first, running claims are never dropped")
    func memoryBound() async throws {
        let store = MemoryIdempotencyStore(maxEntries: 3)
        guard case .claimed(let token) = try await store.claim("a", fingerprint: "f", lease: .seconds(60)) else { Issue.record("claim a"); return }
        try await store.complete("a", token: token, fingerprint: "f", result: "r", retention: .seconds(60))
        _ = try await store.claim("b", fingerprint: "f", lease: .seconds(60))
        _ = try await store.claim("c", fingerprint: "f", lease: .seconds(60))
        // Full: the completed result makes room for a new claim.
        guard case .claimed(let d) = try await store.claim("d", fingerprint: "f", lease: .seconds(60)) else { Issue.record("claim d"); return }
        #expect(store.count == 3)
        try await store.release("d", token: d)
        guard case .claimed = try await store.claim("a", fingerprint: "f", lease: .seconds(60)) else { Issue.record("a's result was pushed out"); return }
        // Only running claims left: a new key is refused, never a running one dropped.
        await #expect(throws: MemoryIdempotencyStore.Full.self) { _ = try await store.claim("e", fingerprint: "f", lease: .seconds(60)) }
        guard case .inProgress = try await store.claim("b", fingerprint: "f", lease: .seconds(60)) else { Issue.record("b is still running"); return }
    }

    final class Runs: Sendable {
        let count = Atomic<Int>(0)
    }

    @Test("a key runs its operation once: a repeat gets the stored result; other arguments are refused; a failure frees the key")
    func runOnce() async throws {
        let idempotency = Idempotency(store: MemoryIdempotencyStore())
        let runs = Runs()
        let operation: @Sendable () async throws -> String = {
            runs.count.add(1, ordering: .relaxed)
            return "result \(runs.count.load(ordering: .relaxed))"
        }
        let key = Idempotency.scopedKey("order-1", principal: "p", operation: "reload_app")
        let fingerprint = Idempotency.fingerprint(#"{"app_id":"a"}"#)
        let first = try await idempotency.run(key: key, fingerprint: fingerprint, encode: { $0 }, operation)
        let second = try await idempotency.run(key: key, fingerprint: fingerprint, encode: { $0 }, operation)
        guard case .ran("result 1") = first, case .replayed("result 1") = second else {
            Issue.record("ran then replayed: \(first), \(second)")
            return
        }
        #expect(runs.count.load(ordering: .relaxed) == 1)
        await #expect(throws: Idempotency.Refusal.keyReused) {
            _ = try await idempotency.run(key: key, fingerprint: Idempotency.fingerprint(#"{"app_id":"b"}"#), encode: { $0 }, operation)
        }
        // Another caller's (or operation's) equal key is another key.
        #expect(Idempotency.scopedKey("order-1", principal: "q", operation: "reload_app") != key)
        #expect(Idempotency.scopedKey("order-1", principal: "p", operation: "save_app") != key)
        #expect(Idempotency.scopedKey("a", principal: "bc", operation: "x") != Idempotency.scopedKey("ab", principal: "c", operation: "x"))

        struct Boom: Error {}
        let failing = Idempotency.scopedKey("order-2", principal: "p", operation: "reload_app")
        await #expect(throws: Boom.self) { _ = try await idempotency.run(key: failing, fingerprint: fingerprint, encode: { $0 }) { () async throws -> String in throw Boom() } }
        guard case .ran = try await idempotency.run(key: failing, fingerprint: fingerprint, encode: { $0 }, operation) else {
            Issue.record("a failed run frees its key")
            return
        }
    }

    @Test("while a call with the key runs, a repeat is told to come back (with the claim's time left)")
    func inProgress() async throws {
        let store = MemoryIdempotencyStore()
        let idempotency = Idempotency(store: store, lease: .seconds(30))
        _ = try await store.claim("k", fingerprint: "f", lease: .seconds(30))
        do {
            _ = try await idempotency.run(key: "k", fingerprint: "f", encode: { $0 }) { "never" }
            Issue.record("expected a refusal")
        } catch Idempotency.Refusal.inProgress(let retryAfter) {
            #expect(retryAfter > .seconds(20))
        }
    }

    @Test("a store that cannot be reached refuses the call instead of running it unguarded")
    func storeDown() async throws {
        struct Down: IdempotencyStore {
            struct Unreachable: Error {}
            func claim(_ key: String, fingerprint: String, lease: Duration) async throws -> IdempotencyClaim { throw Unreachable() }
            func complete(_ key: String, token: String, fingerprint: String, result: String, retention: Duration) async throws {}
            func release(_ key: String, token: String) async throws {}
        }
        let runs = Runs()
        await #expect(throws: Idempotency.Refusal.self) {
            _ = try await Idempotency(store: Down()).run(key: "k", fingerprint: "f", encode: { $0 }) { () async throws -> String in
                runs.count.add(1, ordering: .relaxed)
                return "ran"
            }
        }
        #expect(runs.count.load(ordering: .relaxed) == 0)
    }

    @Test("keys: printable ASCII, 1 to 255 characters")
    func keyRules() {
        #expect(Idempotency.problem(with: "3f2a-order-17") == nil)
        #expect(Idempotency.problem(with: "") != nil)
        #expect(Idempotency.problem(with: String(repeating: "k", count: 256)) != nil)
        #expect(Idempotency.problem(with: "tab\there") != nil)
        #expect(Idempotency.problem(with: "caf\u{e9}") != nil)
    }
}
