import Foundation
import Resilience

/// What every `IdempotencyStore` must do, checked against one store (in process, Redis). Throws
/// `ContractViolation` naming the first broken rule.
public enum IdempotencyStoreContract {
    public struct ContractViolation: Error, CustomStringConvertible {
        public let description: String
    }

    static func require(_ condition: Bool, _ rule: String) throws {
        if !condition { throw ContractViolation(description: rule) }
    }

    public static func check(_ store: any IdempotencyStore) async throws {
        let key = "k-" + UUID().uuidString
        // A free key is claimed; a second claim sees the running one with its fingerprint and lease.
        guard case .claimed(let token) = try await store.claim(key, fingerprint: "f1", lease: .seconds(30)) else {
            throw ContractViolation(description: "a free key is claimed")
        }
        let second = try await store.claim(key, fingerprint: "f1", lease: .seconds(30))
        guard case .inProgress(let fingerprint, let retryAfter) = second else { throw ContractViolation(description: "a claimed key is in progress, got \(second)") }
        try require(fingerprint == "f1" && retryAfter > .seconds(20) && retryAfter <= .seconds(30), "in progress reports the fingerprint and the lease left")
        // Only the claimant settles it.
        try await store.complete(key, token: "someone-else", fingerprint: "f1", result: "forged", retention: .seconds(60))
        try await store.release(key, token: "someone-else")
        guard case .inProgress = try await store.claim(key, fingerprint: "f1", lease: .seconds(30)) else {
            throw ContractViolation(description: "another token neither completes nor releases a claim")
        }
        try await store.complete(key, token: token, fingerprint: "f1", result: "{\"ok\":true}", retention: .seconds(60))
        let done = try await store.claim(key, fingerprint: "f1", lease: .seconds(30))
        try require(done == .completed(fingerprint: "f1", result: "{\"ok\":true}"), "a completed key returns its result, got \(done)")
        // A release after completion does not drop the result.
        try await store.release(key, token: token)
        try require(try await store.claim(key, fingerprint: "f1", lease: .seconds(30)) == done, "a completed key survives a release")

        // A released key can be claimed again.
        let other = "k-" + UUID().uuidString
        guard case .claimed(let first) = try await store.claim(other, fingerprint: "f2", lease: .seconds(30)) else {
            throw ContractViolation(description: "a second free key is claimed")
        }
        try await store.release(other, token: first)
        guard case .claimed = try await store.claim(other, fingerprint: "f3", lease: .seconds(30)) else {
            throw ContractViolation(description: "a released key is free again")
        }

        // A claim whose lease ended (its claimant crashed) frees the key.
        let short = "k-" + UUID().uuidString
        _ = try await store.claim(short, fingerprint: "f4", lease: .milliseconds(50))
        // Polls the store's clock (bounded; a starved test task still gets a last look after the bound).
        let until = ContinuousClock.now + .seconds(30)
        while true {
            if case .claimed = try await store.claim(short, fingerprint: "f4", lease: .seconds(30)) { return }
            if ContinuousClock.now > until { throw ContractViolation(description: "a claim frees itself when its lease ends") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
