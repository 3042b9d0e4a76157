import Foundation

/// What the replicas tell each other about the cache.
public enum CacheEvent: Sendable, Equatable {
    /// Entries of `app` (every app when nil) are void: its generation is now `generation`.
    case flushed(app: String?, generation: Int64)
    /// `app` was reloaded (its last reload time is now `version`).
    case reloaded(app: String, version: String)
}

/// The shared tier (L2) and the invalidation channel between replicas. Implemented on Redis by
/// `ClusterState.RedisCacheTier`. Every call may fail (the tier is then skipped, never the call).
public protocol SharedCacheTier: Sendable {
    /// The encoded entry under `key`, or nil.
    func get(_ key: String) async throws -> Data?
    /// Stores an encoded entry; Redis drops it after `ttl`.
    func set(_ key: String, _ value: Data, ttl: Duration) async throws
    /// Flush generations: `"*"` (all apps) and per app id (lowercased).
    func generations() async throws -> [String: Int64]
    /// Increments the generation of `app` (or `"*"` for all) and returns the new value.
    func bumpGeneration(_ scope: String) async throws -> Int64
    /// Tells every replica (including this one).
    func publish(_ event: CacheEvent) async throws
    /// Receives events from every replica; `resync` after a reconnect (events may have been
    /// missed). Returns once listening.
    func listen(_ onEvent: @escaping @Sendable (CacheEvent) -> Void, resync: @escaping @Sendable () -> Void) async throws
}
