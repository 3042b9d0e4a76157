/// Names of everything qlik-mcp keeps in Redis, under one prefix (default `qlik-mcp:`), so
/// several deployments can share a Redis and an operator can find (or `SCAN`) them.
///
/// Only single-node Redis (or a primary with replicas/Sentinel) is supported: the session
/// scripts touch a session's keys and the cluster-wide session index together, which Redis
/// Cluster would refuse as a cross-slot script.
public struct ClusterKeys: Sendable {
    public let prefix: String

    public init(prefix: String = "qlik-mcp:") {
        self.prefix = prefix
    }

    /// Sorted set of live session ids scored by their expiry (ms): the cluster-wide count.
    var sessionIndex: String { prefix + "sessions" }
    func session(_ id: String) -> String { prefix + "session:" + id }
    /// The session's resumable SSE events (a Redis stream) and its counters (a hash).
    func events(_ id: String) -> String { prefix + "events:" + id }
    func eventMeta(_ id: String) -> String { prefix + "events-meta:" + id }
    /// The pub/sub channel of a session's server messages and control events.
    func bus(_ id: String) -> String { prefix + "bus:" + id }
    func auth(_ namespace: String, _ key: String) -> String { prefix + "auth:" + namespace + ":" + key }
    /// A cached tool answer (the key's SHA-256 digest; the value is the encoded entry).
    func cacheEntry(_ digest: String) -> String { prefix + "cache:v1:" + digest }
    /// The cache's flush generations (a hash: `*` and app ids).
    var cacheGenerations: String { prefix + "cache:generations" }
    /// Operations that failed after their retries (a stream).
    var deadLetters: String { prefix + "dlq" }
    /// An idempotency key's record (the scoped key's SHA-256 digest).
    func idempotency(_ digest: String) -> String { prefix + "idem:" + digest }
    /// A rate limit key's theoretical arrival time (µs on Redis's clock).
    func rateLimit(_ key: String) -> String { prefix + "rl:" + key }
    /// The channel of cache events (flushes, reloads) between the replicas.
    var cacheEvents: String { prefix + "cache:events" }
}
