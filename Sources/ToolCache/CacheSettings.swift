import QlikTools

/// How the tool cache behaves (`serve --cache …`, the config file's `cache:` section).
public struct CacheSettings: Sendable, Equatable {
    /// `off`: every call goes to the engine. `memory`: L1 in this process. `redis`: L1 plus L2
    /// in Redis, shared by the replicas, with invalidations sent to every replica.
    public enum Mode: String, Sendable, CaseIterable {
        case off, memory, redis
    }

    /// Lifetimes of one cache class.
    public struct Lifetime: Sendable, Equatable {
        /// How long an answer is served as fresh.
        public var ttl: Duration
        /// How long after `ttl` an answer may still be served when the engine fails (0: never).
        public var staleFor: Duration

        public init(ttl: Duration, staleFor: Duration) {
            self.ttl = ttl
            self.staleFor = staleFor
        }
    }

    /// Which apps to load into the cache at start-up.
    public enum Warm: Sendable, Equatable {
        case none
        case all
        case apps([String])
    }

    public var mode: Mode = .memory
    /// Per class. Defaults: metadata 10 min (stale up to 1 h), master items 2 min (stale up to
    /// 15 min), data 30 s (never stale).
    public var lifetimes: [CacheClass: Lifetime] = [
        .metadata: Lifetime(ttl: .seconds(600), staleFor: .seconds(3_600)),
        .masterItems: Lifetime(ttl: .seconds(120), staleFor: .seconds(900)),
        .data: Lifetime(ttl: .seconds(30), staleFor: .zero),
    ]
    /// Bound of the in-process tier (sum of the entries' sizes).
    public var maxBytes = 64 << 20
    /// Largest answer cached (bigger ones are answered but not stored).
    public var maxEntryBytes = 4 << 20
    /// Bound of the number of in-process entries (many tiny answers).
    public var maxEntries = 100_000
    /// How long a "not found" answer is reused.
    public var negativeTTL: Duration = .seconds(5)
    /// Each TTL is shortened by a random share up to this (so entries stored together do not all
    /// expire together and stampede the engine).
    public var jitter = 0.1
    /// Whether `_meta.cache = "bypass"` on a call is honoured.
    public var allowBypass = true
    /// How often the apps' last reload times are read (reloads made outside qlik-mcp are seen
    /// within this interval).
    public var versionInterval: Duration = .seconds(5)
    public var warm: Warm = .none
    /// Tenant of every key (one tenant until multi-tenancy lands).
    public var tenant = "default"

    public init() {}

    /// The lifetimes of `cacheClass` (`never` has none).
    public func lifetime(_ cacheClass: CacheClass) -> Lifetime? { lifetimes[cacheClass] }

    /// Checks the bounds; the message says which setting is wrong and what is allowed.
    public func validate() throws(CacheSettingsError) {
        guard (1 << 20)...(16 << 30) ~= maxBytes else { throw CacheSettingsError("cache max bytes must be between 1 MiB and 16 GiB (got \(maxBytes))") }
        guard 1_024...maxBytes ~= maxEntryBytes else {
            throw CacheSettingsError("cache max entry bytes must be between 1 KiB and the cache's max bytes (\(maxBytes)); got \(maxEntryBytes)")
        }
        guard 1...10_000_000 ~= maxEntries else { throw CacheSettingsError("cache max entries must be between 1 and 10,000,000 (got \(maxEntries))") }
        guard (0.0...0.5).contains(jitter) else { throw CacheSettingsError("cache TTL jitter must be between 0 and 0.5 (got \(jitter))") }
        guard negativeTTL >= .zero, negativeTTL <= .seconds(3_600) else { throw CacheSettingsError("the negative TTL must be between 0 and 3600 seconds") }
        guard versionInterval >= .milliseconds(100), versionInterval <= .seconds(3_600) else {
            throw CacheSettingsError("the version check interval must be between 0.1 and 3600 seconds")
        }
        for (cacheClass, lifetime) in lifetimes {
            guard lifetime.ttl >= .zero, lifetime.ttl <= .seconds(7 * 86_400) else {
                throw CacheSettingsError("the TTL of \(cacheClass.rawValue) must be between 0 and 604800 seconds")
            }
            guard lifetime.staleFor >= .zero, lifetime.staleFor <= .seconds(7 * 86_400) else {
                throw CacheSettingsError("the stale age of \(cacheClass.rawValue) must be between 0 and 604800 seconds")
            }
        }
    }
}

/// A cache setting out of bounds, with what is allowed.
public struct CacheSettingsError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
