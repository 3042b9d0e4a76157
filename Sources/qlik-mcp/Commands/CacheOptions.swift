import ArgumentParser
import ClusterState
import Foundation
import Logging
import QlikTools
import RedisClient
import ServerSettings
import ToolCache

/// The tool cache (`serve --cache …`): flags, then `QLIK_MCP_CACHE_*`, then the config file's
/// `cache:` section, then the defaults of `CacheSettings`.
struct CacheOptions: ParsableArguments {
    @Option(help: ArgumentHelp("off, memory (default) or redis (default with --state redis: shared by the replicas). Env: QLIK_MCP_CACHE.", valueName: "mode"))
    var cache: String?
    @Option(help: ArgumentHelp("Fresh lifetimes per class in seconds, e.g. metadata=600,master_items=120,data=30. Env: QLIK_MCP_CACHE_TTL.", valueName: "list"))
    var cacheTTL: String?
    @Option(help: ArgumentHelp("How long after its TTL an answer may be served when the engine fails, per class, e.g. metadata=3600,data=0. Env: QLIK_MCP_CACHE_STALE.", valueName: "list"))
    var cacheStale: String?
    @Option(help: ArgumentHelp("Bound of the in-process cache, bytes (KiB, MiB, GiB suffixes allowed). Default 64MiB. Env: QLIK_MCP_CACHE_MAX_BYTES.", valueName: "size"))
    var cacheMaxBytes: String?
    @Option(help: ArgumentHelp("Largest answer cached (default 4MiB). Env: QLIK_MCP_CACHE_MAX_ENTRY_BYTES.", valueName: "size"))
    var cacheMaxEntryBytes: String?
    @Option(help: ArgumentHelp("Seconds a \"not found\" answer is reused (default 5). Env: QLIK_MCP_CACHE_NEGATIVE_TTL.", valueName: "seconds"))
    var cacheNegativeTTL: Double?
    @Option(help: ArgumentHelp("Apps whose metadata is loaded at start-up: a comma-separated list of app ids, or all. Env: QLIK_MCP_CACHE_WARM.", valueName: "apps"))
    var cacheWarm: String?
    @Option(help: ArgumentHelp("Honour _meta.cache = \"bypass\" on tool calls: true (default) or false. Env: QLIK_MCP_ALLOW_BYPASS.", valueName: "bool"))
    var allowBypass: Bool?
    @Option(help: ArgumentHelp("Seconds between reads of the apps' last reload times (default 5). Env: QLIK_MCP_CACHE_VERSION_INTERVAL.", valueName: "seconds"))
    var cacheVersionInterval: Double?
    @Option(
        help: ArgumentHelp(
            "A Redis of the cache's own (default: the --redis-url of --state), e.g. one with maxmemory-policy allkeys-lru. Env: QLIK_MCP_CACHE_REDIS_URL.",
            valueName: "url"))
    var cacheRedisURL: String?

    private func env(_ name: String) -> String? { ProcessEnvironment.current[name].flatMap { $0.isEmpty ? nil : $0 } }

    /// The settings; `stateMode` decides the default mode (`redis` when the sessions are in Redis).
    func settings(_ file: ServerConfigFile.Cache, stateMode: String) throws -> CacheSettings {
        var settings = CacheSettings()
        let modeText = (cache ?? env("QLIK_MCP_CACHE") ?? file.mode ?? (stateMode == "redis" ? "redis" : "memory")).lowercased()
        guard let mode = CacheSettings.Mode(rawValue: modeText) else { throw ValidationError("--cache must be off, memory or redis (got '\(modeText)')") }
        settings.mode = mode
        let ttl = try classSeconds(cacheTTL ?? env("QLIK_MCP_CACHE_TTL"), flag: "cache-ttl") ?? file.ttl ?? [:]
        let stale = try classSeconds(cacheStale ?? env("QLIK_MCP_CACHE_STALE"), flag: "cache-stale") ?? file.stale ?? [:]
        for cacheClass in [CacheClass.metadata, .masterItems, .data] {
            var lifetime = settings.lifetimes[cacheClass]!
            if let seconds = ttl[cacheClass.rawValue] { lifetime.ttl = Self.duration(seconds) }
            if let seconds = stale[cacheClass.rawValue] { lifetime.staleFor = Self.duration(seconds) }
            settings.lifetimes[cacheClass] = lifetime
        }
        if settings.mode != .redis, cacheRedisURL ?? env("QLIK_MCP_CACHE_REDIS_URL") != nil {
            throw ValidationError("--cache-redis-url is for --cache redis (the cache is \(settings.mode.rawValue))")
        }
        if let size = try Self.bytes(cacheMaxBytes ?? env("QLIK_MCP_CACHE_MAX_BYTES"), flag: "cache-max-bytes") ?? file.maxBytes { settings.maxBytes = size }
        if let size = try Self.bytes(cacheMaxEntryBytes ?? env("QLIK_MCP_CACHE_MAX_ENTRY_BYTES"), flag: "cache-max-entry-bytes") ?? file.maxEntryBytes {
            settings.maxEntryBytes = size
        } else {
            settings.maxEntryBytes = min(settings.maxEntryBytes, settings.maxBytes / 4)
        }
        if let seconds = try number(cacheNegativeTTL, "QLIK_MCP_CACHE_NEGATIVE_TTL") ?? file.negativeTTL { settings.negativeTTL = Self.duration(seconds) }
        if let seconds = try number(cacheVersionInterval, "QLIK_MCP_CACHE_VERSION_INTERVAL") ?? file.versionInterval { settings.versionInterval = Self.duration(seconds) }
        if let bypass = try allowBypass ?? env("QLIK_MCP_ALLOW_BYPASS").map(Self.bool) ?? file.allowBypass { settings.allowBypass = bypass }
        let warm = ToolFilterOptions.list(cacheWarm ?? env("QLIK_MCP_CACHE_WARM")).map { Array($0).sorted() } ?? file.warm
        if let warm {
            settings.warm = warm == ["all"] ? .all : .apps(warm)
            guard warm.count <= 1_000, warm.allSatisfy({ $0.count <= 500 }) else { throw ValidationError("--cache-warm takes at most 1,000 app ids of at most 500 characters") }
        }
        do {
            try settings.validate()
        } catch {
            throw ValidationError(error.description)
        }
        return settings
    }

    /// The shared tier: the cluster's Redis (`--state redis`), or a Redis of its own for
    /// `--cache redis` with sessions in memory (checked at start, like the cluster's).
    func sharedTier(_ settings: CacheSettings, cluster: ClusterState?, state: StateOptions, file: ServerConfigFile.State) async throws -> (any SharedCacheTier)? {
        guard settings.mode == .redis else { return nil }
        let ownURL = cacheRedisURL ?? env("QLIK_MCP_CACHE_REDIS_URL")
        if let cluster, ownURL == nil { return RedisCacheTier(pool: cluster.pool, subscriber: cluster.subscriber, keys: cluster.keys) }
        let configuration: RedisConfiguration
        do {
            configuration = try state.redisConfiguration(file, url: ownURL)
        } catch let error as ValidationError {
            throw ValidationError("--cache redis: \(error.message.replacingOccurrences(of: "--state redis needs", with: "needs"))")
        }
        let pool = RedisConnectionPool(configuration: configuration, maxConnections: 8)
        do {
            try await pool.send(["PING"], timeout: .seconds(2))
        } catch {
            await pool.shutdown()
            throw ValidationError("--cache redis: cannot use Redis at \(configuration.url): \(error)")
        }
        return RedisCacheTier(pool: pool, subscriber: RedisSubscriber(configuration: configuration), keys: ClusterKeys(prefix: try state.keyPrefix(file)))
    }

    private func number(_ flag: Double?, _ variable: String) throws -> Double? {
        if let flag { return flag }
        guard let text = env(variable) else { return nil }
        guard let value = Double(text), value.isFinite else { throw ValidationError("\(variable)='\(text)' is not a number of seconds") }
        return value
    }

    /// `metadata=600,data=30` → seconds per class name.
    private func classSeconds(_ text: String?, flag: String) throws -> [String: Double]? {
        guard let text, !text.isEmpty else { return nil }
        var result: [String: Double] = [:]
        for item in text.split(separator: ",") {
            let parts = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, ["metadata", "master_items", "data"].contains(parts[0]), let seconds = Double(parts[1]), seconds >= 0, seconds <= 604_800 else {
                throw ValidationError("--\(flag): '\(item)' is not CLASS=SECONDS with CLASS metadata, master_items or data and 0 to 604800 seconds")
            }
            result[parts[0]] = seconds
        }
        return result
    }

    static func duration(_ seconds: Double) -> Duration { .milliseconds(Int64((seconds * 1000).rounded())) }

    static func bool(_ text: String) throws -> Bool {
        switch text.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw ValidationError("'\(text)' is not true or false")
        }
    }

    /// `1048576`, `64MiB`, `512KiB`, `1GiB` (also `MB`/`M`-style suffixes, all binary).
    static func bytes(_ text: String?, flag: String) throws -> Int? {
        guard let text = text?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        let units: [(String, Int)] = [("gib", 1 << 30), ("mib", 1 << 20), ("kib", 1 << 10), ("gb", 1 << 30), ("mb", 1 << 20), ("kb", 1 << 10), ("g", 1 << 30), ("m", 1 << 20), ("k", 1 << 10)]
        let lower = text.lowercased()
        for (suffix, factor) in units where lower.hasSuffix(suffix) {
            guard let number = Int(lower.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)), number >= 0, number <= Int.max / factor else { break }
            return number * factor
        }
        guard let number = Int(lower), number >= 0 else { throw ValidationError("--\(flag): '\(text)' is not a size (bytes, or with KiB, MiB, GiB)") }
        return number
    }
}
