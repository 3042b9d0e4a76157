import Foundation

/// Where the authorization-server proxy keeps its short-lived state: client registrations,
/// pending consents, upstream logins, authorization codes, refresh tokens and revoked grants.
///
/// The in-memory store is the default; `RedisAuthStateStore` (module ClusterState) lets every
/// replica share one. Errors of the store (Redis down) are answered 503, never as "unknown". Keys of secrets (codes, refresh tokens) are their SHA-256, never the secret.
public protocol AuthStateStore: Sendable {
    /// Stores `value` under `namespace`/`key` for `ttl`; throws `AuthStateStoreError.full` when bounded out.
    func put(_ value: Data, namespace: String, key: String, ttl: Duration) async throws
    func get(namespace: String, key: String) async throws -> Data?
    /// Returns and removes the value atomically (one-time use: codes, consent transactions).
    func take(namespace: String, key: String) async throws -> Data?
    /// Marks `key` as used; true for the first caller only (atomic across replicas: the one
    /// use of a refresh token).
    func claim(namespace: String, key: String, ttl: Duration) async throws -> Bool
    func remove(namespace: String, key: String) async throws
}

public enum AuthStateStoreError: Error, CustomStringConvertible {
    case full(namespace: String, limit: Int)

    public var description: String {
        switch self {
        case .full(let namespace, let limit): return "the \(namespace) store holds its maximum of \(limit) entries; retry later"
        }
    }
}

/// The default store: a bounded map per namespace with expiry. Expired entries are dropped when
/// a namespace reaches its bound; if it is still full, `put` refuses (no live entry is evicted,
/// so a flood of registrations cannot push out a user's pending login).
public actor InMemoryAuthStateStore: AuthStateStore {
    private var entries: [String: [String: (value: Data, expires: ContinuousClock.Instant)]] = [:]
    let limits: [String: Int]
    let defaultLimit: Int

    public init(limits: [String: Int] = [:], defaultLimit: Int = 10_000) {
        self.limits = limits
        self.defaultLimit = defaultLimit
    }

    public func put(_ value: Data, namespace: String, key: String, ttl: Duration) throws {
        let now = ContinuousClock.now
        var space = entries[namespace] ?? [:]
        let limit = limits[namespace] ?? defaultLimit
        if space[key] == nil, space.count >= limit {
            space = space.filter { $0.value.expires > now }
            guard space.count < limit else {
                entries[namespace] = space
                throw AuthStateStoreError.full(namespace: namespace, limit: limit)
            }
        }
        space[key] = (value, now + ttl)
        entries[namespace] = space
    }

    public func get(namespace: String, key: String) -> Data? {
        guard let entry = entries[namespace]?[key] else { return nil }
        guard entry.expires > .now else {
            entries[namespace]?[key] = nil
            return nil
        }
        return entry.value
    }

    public func take(namespace: String, key: String) -> Data? {
        let value = get(namespace: namespace, key: key)
        entries[namespace]?[key] = nil
        return value
    }

    public func claim(namespace: String, key: String, ttl: Duration) throws -> Bool {
        guard get(namespace: namespace, key: key) == nil else { return false }
        try put(Data([1]), namespace: namespace, key: key, ttl: ttl)
        return true
    }

    public func remove(namespace: String, key: String) {
        entries[namespace]?[key] = nil
    }

    /// Live entries in a namespace (tests, metrics).
    public func count(namespace: String) -> Int {
        let now = ContinuousClock.now
        return entries[namespace]?.values.filter { $0.expires > now }.count ?? 0
    }
}

/// Typed access to a store: Codable records as JSON.
struct TypedStore: Sendable {
    let store: any AuthStateStore
    private static let encoder = JSONEncoder()
    private static let decoder = JSONDecoder()

    func put<T: Encodable>(_ value: T, _ namespace: String, _ key: String, ttl: Duration) async throws {
        try await store.put(try Self.encoder.encode(value), namespace: namespace, key: key, ttl: ttl)
    }

    func get<T: Decodable>(_ type: T.Type, _ namespace: String, _ key: String) async throws -> T? {
        guard let data = try await store.get(namespace: namespace, key: key) else { return nil }
        return try? Self.decoder.decode(type, from: data)
    }

    func take<T: Decodable>(_ type: T.Type, _ namespace: String, _ key: String) async throws -> T? {
        guard let data = try await store.take(namespace: namespace, key: key) else { return nil }
        return try? Self.decoder.decode(type, from: data)
    }
}
