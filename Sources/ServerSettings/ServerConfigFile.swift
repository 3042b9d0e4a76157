import Foundation
import Yams

/// The `serve --config` file (YAML, or JSON which YAML reads too): settings that are also flags,
/// grouped. Flags and `QLIK_MCP_*` variables win over the file. Every error names the line and
/// column and says what is expected.
///
/// ```yaml
/// transport: http            # stdio | http
/// host: 127.0.0.1
/// port: 8080
/// engine:
///   url: wss://qlik.example.com   # omit (or demo: true) for the demo engine
///   cert: /etc/qlik/client.pem
///   key: /etc/qlik/client_key.pem
///   ca: /etc/qlik/root.pem
///   user_directory: CORP
///   user_id: svc_mcp
///   api_key_env: QLIK_CLOUD_KEY    # the API key itself never goes in the file
/// tools:
///   toolsets: [apps, analytics]
///   disable: [reload_app]
///   read_only: true
///   dynamic: false
/// http:
///   max_sessions: 1000
///   session_idle_timeout: 1800
///   max_body_bytes: 1048576
///   request_timeout: 300
///   drain_timeout: 25
///   allowed_hosts: ["mcp.example.com"]
///   allowed_origins: []
///   debug_endpoints: false
/// state:                     # HTTP only; see README "Scale out"
///   mode: redis              # memory (default) | redis
///   redis_url: redis://redis:6379/0   # no password here: redis_password_file or QLIK_MCP_REDIS_PASSWORD
///   redis_password_file: /run/secrets/redis-password
///   redis_ca_file: /etc/qlik-mcp/redis-ca.pem     # rediss:// only
///   key_prefix: "qlik-mcp:"
/// cache:                     # see README "Caching"
///   mode: memory             # off | memory (default) | redis (default with state.mode redis)
///   ttl: {metadata: 600, master_items: 120, data: 30}     # seconds
///   stale: {metadata: 3600, master_items: 900, data: 0}   # served on engine failure up to this long after the TTL
///   max_bytes: 67108864      # the in-process tier's bound
///   max_entry_bytes: 4194304
///   negative_ttl: 5          # "not found" answers
///   warm: [sales-analytics]  # or: all
///   allow_bypass: true       # honour _meta.cache = "bypass"
///   version_interval: 5      # seconds between reads of the apps' last reload times
/// resilience:                # see README "Failure behaviour"
///   enabled: true            # false: no breakers or retries (--resilience off)
///   breakers:
///     engine: {window: 10, min_calls: 10, failure_rate: 0.5, slow_call: 5, slow_rate: 0.8, open_for: 10, probes: 3}
///     tool: {min_calls: 20}
///   retry: {attempts: 3, base_ms: 50, max_ms: 2000, budget_ratio: 0.2, budget_min_per_s: 1}
///   engine_timeout: 30       # seconds an engine request may take
///   ready_fails_on_open_breaker: false
///   data_dir: /var/lib/qlik-mcp   # dead letters without state.mode redis
/// limits:                    # see README "Limits"
///   principal: 5/s           # tool calls per principal; principal_burst: 10
///   tools: {query_data: 5/s, reload_app: 1/m}
///   tenant: 200/s
///   ip: 30/m                 # unauthenticated OAuth endpoints, per client IP; ip_burst: 10
///   replicas: 3              # each replica's share when Redis cannot be asked
///   engine_concurrency: adaptive   # or off
/// auth:                      # HTTP only; see README "Deploy remotely"
///   mode: oauth              # none | oauth | apikey | oauth+apikey
///   public_url: https://mcp.example.com
///   provider: entra          # proxy mode (or issuer: … for resource-server mode)
///   tenant: 00000000-0000-0000-0000-000000000000
///   client_id: 11111111-…    # the secret: client_secret_file or QLIK_MCP_OAUTH_CLIENT_SECRET, never here
///   client_secret_file: /run/secrets/oauth-secret
///   signing_keys: [/etc/qlik-mcp/signing.pem]
/// ```
public struct ServerConfigFile: Sendable, Equatable {
    public var transport: String?
    public var host: String?
    public var port: Int?
    public var engineURL: String?
    public var demo: Bool?
    public var cert: String?
    public var key: String?
    public var ca: String?
    public var userDirectory: String?
    public var userID: String?
    public var apiKeyEnv: String?
    public var toolsets: [String]?
    public var disableTools: [String]?
    public var readOnly: Bool?
    public var dynamic: Bool?
    public var maxSessions: Int?
    public var sessionIdleTimeout: Int?
    public var maxBodyBytes: Int?
    public var requestTimeout: Int?
    public var drainTimeout: Int?
    public var allowedHosts: [String]?
    public var allowedOrigins: [String]?
    public var debugEndpoints: Bool?
    public var auth = Auth()
    public var state = State()
    public var cache = Cache()
    public var resilience = Resilience()
    public var limits = Limits()

    /// The `limits:` section (`serve --rate-limit-* …`); rates are `COUNT/UNIT` texts, checked
    /// when the server starts.
    public struct Limits: Sendable, Equatable {
        public var principal: String?
        public var principalBurst: Int?
        /// Tool name → rate.
        public var tools: [String: String]?
        public var tenant: String?
        public var ip: String?
        public var ipBurst: Int?
        public var replicas: Int?
        public var engineConcurrency: String?

        public init() {}
    }

    /// The `resilience:` section (`serve --breaker-engine …`, `--retry …`). Values are checked
    /// against `ResilienceKeys`, the same table the flags use.
    public struct Resilience: Sendable, Equatable {
        /// false: no breakers, retries or budget (`--resilience off`).
        public var enabled: Bool?
        /// Breaker class (`engine`, `tool`) → key → value.
        public var breakers: [String: [String: Double]]?
        public var retry: [String: Double]?
        public var engineTimeout: Double?
        public var readyFailsOnOpenBreaker: Bool?
        public var dataDir: String?

        public init() {}
    }

    /// The `cache:` section (`serve --cache …`). Durations in seconds.
    public struct Cache: Sendable, Equatable {
        public var mode: String?
        public var ttl: [String: Double]?
        public var stale: [String: Double]?
        public var maxBytes: Int?
        public var maxEntryBytes: Int?
        public var negativeTTL: Double?
        /// App ids, or `["all"]`.
        public var warm: [String]?
        public var allowBypass: Bool?
        public var versionInterval: Double?

        public init() {}
    }

    /// The `state:` section (`serve --state …`).
    public struct State: Sendable, Equatable {
        public var mode: String?
        public var redisURL: String?
        public var redisPasswordFile: String?
        public var redisCAFile: String?
        public var keyPrefix: String?

        public init() {}
    }

    /// The `auth:` section; every key is also a flag of `serve` (`mode` is `--auth`).
    public struct Auth: Sendable, Equatable {
        public var mode: String?
        public var insecureNoAuth: Bool?
        public var publicURL: String?
        public var issuer: String?
        public var audience: String?
        public var provider: String?
        public var tenant: String?
        public var providerURL: String?
        public var clientID: String?
        public var clientIDFile: String?
        public var clientSecretFile: String?
        public var signingKeys: [String]?
        public var apiKeysFile: String?
        public var defaultScopes: [String]?
        public var accessTokenTTL: Int?
        public var introspectionURL: String?
        public var identityClaim: String?
        public var userDirectory: String?

        public init() {}
    }

    public init() {}

    /// A configuration error with its position.
    public struct Error: Swift.Error, CustomStringConvertible, Equatable {
        public let file: String
        public let line: Int
        public let column: Int
        public let message: String
        public var description: String { "\(file):\(line):\(column): \(message)" }
    }

    /// Largest file read (a configuration file is small; anything bigger is a mistake).
    public static let maxBytes = 256 * 1024

    public static func load(path: String) throws -> ServerConfigFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Error(file: path, line: 0, column: 0, message: "cannot read the file (check the path and permissions)")
        }
        guard data.count <= maxBytes else { throw Error(file: path, line: 0, column: 0, message: "the file is larger than \(maxBytes / 1024) KiB") }
        return try parse(String(decoding: data, as: UTF8.self), file: path)
    }

    public static func parse(_ text: String, file: String = "config") throws -> ServerConfigFile {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw Self.syntaxError(error, file: file)
        }
        var config = ServerConfigFile()
        guard let root else { return config }
        let reader = Reader(file: file)
        let top = try reader.mapping(root, "the file", keys: ["transport", "host", "port", "engine", "tools", "http", "auth", "state", "cache", "resilience", "limits"])
        config.transport = try top["transport"].map { try reader.choice($0, "transport", ["stdio", "http"]) }
        config.host = try top["host"].map { try reader.string($0, "host") }
        config.port = try top["port"].map { try reader.int($0, "port", 0...65_535) }
        if let engine = top["engine"] {
            let section = try reader.mapping(engine, "engine", keys: ["url", "demo", "cert", "key", "ca", "user_directory", "user_id", "api_key_env", "api_key"])
            if let key = section["api_key"] {
                throw reader.error(key, "do not put the API key in the file: set api_key_env to the name of an environment variable that holds it")
            }
            config.engineURL = try section["url"].map { try reader.string($0, "engine.url") }
            config.demo = try section["demo"].map { try reader.bool($0, "engine.demo") }
            config.cert = try section["cert"].map { try reader.string($0, "engine.cert") }
            config.key = try section["key"].map { try reader.string($0, "engine.key") }
            config.ca = try section["ca"].map { try reader.string($0, "engine.ca") }
            config.userDirectory = try section["user_directory"].map { try reader.string($0, "engine.user_directory") }
            config.userID = try section["user_id"].map { try reader.string($0, "engine.user_id") }
            config.apiKeyEnv = try section["api_key_env"].map { try reader.string($0, "engine.api_key_env") }
        }
        if let tools = top["tools"] {
            let section = try reader.mapping(tools, "tools", keys: ["toolsets", "disable", "read_only", "dynamic"])
            config.toolsets = try section["toolsets"].map { try reader.strings($0, "tools.toolsets") }
            config.disableTools = try section["disable"].map { try reader.strings($0, "tools.disable") }
            config.readOnly = try section["read_only"].map { try reader.bool($0, "tools.read_only") }
            config.dynamic = try section["dynamic"].map { try reader.bool($0, "tools.dynamic") }
        }
        if let http = top["http"] {
            let section = try reader.mapping(
                http, "http",
                keys: [
                    "max_sessions", "session_idle_timeout", "max_body_bytes", "request_timeout",
                    "drain_timeout", "allowed_hosts", "allowed_origins", "debug_endpoints",
                ])
            config.maxSessions = try section["max_sessions"].map { try reader.int($0, "http.max_sessions", 1...1_000_000) }
            config.sessionIdleTimeout = try section["session_idle_timeout"].map { try reader.int($0, "http.session_idle_timeout", 1...86_400) }
            config.maxBodyBytes = try section["max_body_bytes"].map { try reader.int($0, "http.max_body_bytes", 1_024...(64 << 20)) }
            config.requestTimeout = try section["request_timeout"].map { try reader.int($0, "http.request_timeout", 1...7_200) }
            config.drainTimeout = try section["drain_timeout"].map { try reader.int($0, "http.drain_timeout", 0...3_600) }
            config.allowedHosts = try section["allowed_hosts"].map { try reader.strings($0, "http.allowed_hosts") }
            config.allowedOrigins = try section["allowed_origins"].map { try reader.strings($0, "http.allowed_origins") }
            config.debugEndpoints = try section["debug_endpoints"].map { try reader.bool($0, "http.debug_endpoints") }
        }
        if let auth = top["auth"] { config.auth = try parseAuth(auth, reader) }
        if let state = top["state"] {
            let section = try reader.mapping(state, "state", keys: ["mode", "redis_url", "redis_password_file", "redis_ca_file", "key_prefix"])
            config.state.mode = try section["mode"].map { try reader.choice($0, "state.mode", ["memory", "redis"]) }
            if let url = section["redis_url"] {
                let text = try reader.string(url, "state.redis_url")
                if let at = text.firstIndex(of: "@"), text[..<at].contains(":"), text[..<at].split(separator: "/").last?.contains(":") == true {
                    throw reader.error(url, "do not put the Redis password in the file: use redis_password_file or QLIK_MCP_REDIS_PASSWORD")
                }
                config.state.redisURL = text
            }
            config.state.redisPasswordFile = try section["redis_password_file"].map { try reader.string($0, "state.redis_password_file") }
            config.state.redisCAFile = try section["redis_ca_file"].map { try reader.string($0, "state.redis_ca_file") }
            config.state.keyPrefix = try section["key_prefix"].map { try reader.string($0, "state.key_prefix") }
        }
        if let cache = top["cache"] { config.cache = try parseCache(cache, reader) }
        if let resilience = top["resilience"] { config.resilience = try parseResilience(resilience, reader) }
        if let limits = top["limits"] { config.limits = try parseLimits(limits, reader) }
        return config
    }

    static func parseLimits(_ node: Node, _ reader: Reader) throws -> Limits {
        let section = try reader.mapping(
            node, "limits", keys: ["principal", "principal_burst", "tools", "tenant", "ip", "ip_burst", "replicas", "engine_concurrency"])
        var limits = Limits()
        limits.principal = try section["principal"].map { try reader.string($0, "limits.principal") }
        limits.principalBurst = try section["principal_burst"].map { try reader.int($0, "limits.principal_burst", 1...1_000_000) }
        if let tools = section["tools"] {
            guard case .mapping(let mapping) = tools else { throw reader.error(tools, "limits.tools must be a mapping of tool names to rates, e.g. {query_data: 5/s}") }
            var rates: [String: String] = [:]
            for (key, value) in mapping {
                guard let name = key.string, !name.isEmpty else { throw reader.error(key, "tool names must be text") }
                rates[name] = try reader.string(value, "limits.tools.\(name)")
            }
            limits.tools = rates
        }
        limits.tenant = try section["tenant"].map { try reader.string($0, "limits.tenant") }
        limits.ip = try section["ip"].map { try reader.string($0, "limits.ip") }
        limits.ipBurst = try section["ip_burst"].map { try reader.int($0, "limits.ip_burst", 1...1_000_000) }
        limits.replicas = try section["replicas"].map { try reader.int($0, "limits.replicas", 1...1_000) }
        limits.engineConcurrency = try section["engine_concurrency"].map { try reader.choice($0, "limits.engine_concurrency", ["adaptive", "off"]) }
        return limits
    }

    static func parseResilience(_ node: Node, _ reader: Reader) throws -> Resilience {
        let section = try reader.mapping(node, "resilience", keys: ["enabled", "breakers", "retry", "engine_timeout", "ready_fails_on_open_breaker", "data_dir"])
        var resilience = Resilience()
        resilience.enabled = try section["enabled"].map { try reader.bool($0, "resilience.enabled") }
        func numbers(_ node: Node, _ name: String, _ table: [String: ClosedRange<Double>]) throws -> [String: Double] {
            let values = try reader.mapping(node, name, keys: Set(table.keys))
            return try Dictionary(
                uniqueKeysWithValues: values.map { key, value in
                    let range = table[key] ?? 0...0
                    guard case .scalar = value, let number = value.float, number.isFinite else { throw reader.error(value, "\(name).\(key) must be a number") }
                    guard range.contains(number) else { throw reader.error(value, "\(name).\(key) must be between \(range.lowerBound) and \(range.upperBound) (got \(number))") }
                    return (key, number)
                })
        }
        if let breakers = section["breakers"] {
            let classes = try reader.mapping(breakers, "resilience.breakers", keys: Set(ResilienceKeys.breakerClasses))
            resilience.breakers = try classes.reduce(into: [:]) { result, entry in
                result[entry.key] = try numbers(entry.value, "resilience.breakers.\(entry.key)", ResilienceKeys.breaker)
            }
        }
        resilience.retry = try section["retry"].map { try numbers($0, "resilience.retry", ResilienceKeys.retry) }
        resilience.engineTimeout = try section["engine_timeout"].map { try reader.seconds($0, "resilience.engine_timeout", ResilienceKeys.engineTimeout) }
        resilience.readyFailsOnOpenBreaker = try section["ready_fails_on_open_breaker"].map { try reader.bool($0, "resilience.ready_fails_on_open_breaker") }
        resilience.dataDir = try section["data_dir"].map { try reader.string($0, "resilience.data_dir") }
        return resilience
    }

    static let cacheClasses = ["metadata", "master_items", "data"]

    static func parseCache(_ node: Node, _ reader: Reader) throws -> Cache {
        let section = try reader.mapping(
            node, "cache", keys: ["mode", "ttl", "stale", "max_bytes", "max_entry_bytes", "negative_ttl", "warm", "allow_bypass", "version_interval"])
        var cache = Cache()
        cache.mode = try section["mode"].map { try reader.choice($0, "cache.mode", ["off", "memory", "redis"]) }
        func seconds(_ name: String) throws -> [String: Double]? {
            guard let node = section[name] else { return nil }
            let classes = try reader.mapping(node, "cache.\(name)", keys: Set(cacheClasses))
            return try classes.mapValues { try reader.seconds($0, "cache.\(name)", 0...604_800) }
        }
        cache.ttl = try seconds("ttl")
        cache.stale = try seconds("stale")
        cache.maxBytes = try section["max_bytes"].map { try reader.int($0, "cache.max_bytes", (1 << 20)...(16 << 30)) }
        cache.maxEntryBytes = try section["max_entry_bytes"].map { try reader.int($0, "cache.max_entry_bytes", 1_024...(16 << 30)) }
        cache.negativeTTL = try section["negative_ttl"].map { try reader.seconds($0, "cache.negative_ttl", 0...3_600) }
        if let warm = section["warm"] {
            if case .scalar(let scalar) = warm, scalar.string == "all" {
                cache.warm = ["all"]
            } else {
                cache.warm = try reader.strings(warm, "cache.warm")
            }
        }
        cache.allowBypass = try section["allow_bypass"].map { try reader.bool($0, "cache.allow_bypass") }
        cache.versionInterval = try section["version_interval"].map { try reader.seconds($0, "cache.version_interval", 0.1...3_600) }
        return cache
    }

    static func parseAuth(_ node: Node, _ reader: Reader) throws -> Auth {
        let section = try reader.mapping(
            node, "auth",
            keys: [
                "mode", "insecure_no_auth", "public_url", "issuer", "audience", "provider", "tenant", "provider_url", "client_id", "client_id_file",
                "client_secret_file", "client_secret", "signing_keys", "apikeys_file", "default_scopes", "access_token_ttl", "introspection_url",
                "identity_claim", "user_directory",
            ])
        if let secret = section["client_secret"] {
            throw reader.error(secret, "do not put the client secret in the file: use client_secret_file or QLIK_MCP_OAUTH_CLIENT_SECRET")
        }
        var auth = Auth()
        func text(_ key: String) throws -> String? { try section[key].map { try reader.string($0, "auth.\(key)") } }
        auth.mode = try section["mode"].map { try reader.choice($0, "auth.mode", ["none", "oauth", "apikey", "oauth+apikey"]) }
        auth.insecureNoAuth = try section["insecure_no_auth"].map { try reader.bool($0, "auth.insecure_no_auth") }
        auth.publicURL = try text("public_url")
        auth.issuer = try text("issuer")
        auth.audience = try text("audience")
        auth.provider = try section["provider"].map { try reader.choice($0, "auth.provider", ["github", "entra", "google", "qlik-cloud", "oidc"]) }
        auth.tenant = try text("tenant")
        auth.providerURL = try text("provider_url")
        auth.clientID = try text("client_id")
        auth.clientIDFile = try text("client_id_file")
        auth.clientSecretFile = try text("client_secret_file")
        auth.signingKeys = try section["signing_keys"].map { try reader.strings($0, "auth.signing_keys") }
        auth.apiKeysFile = try text("apikeys_file")
        auth.defaultScopes = try section["default_scopes"].map { try reader.strings($0, "auth.default_scopes") }
        auth.accessTokenTTL = try section["access_token_ttl"].map { try reader.int($0, "auth.access_token_ttl", 60...86_400) }
        auth.introspectionURL = try text("introspection_url")
        auth.identityClaim = try text("identity_claim")
        auth.userDirectory = try text("user_directory")
        return auth
    }

    static func syntaxError(_ error: YamlError, file: String) -> Error {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return Error(file: file, line: mark.line, column: mark.column, message: "not valid YAML/JSON: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, _):
            return Error(file: file, line: 0, column: 0, message: "duplicated keys: \(duplicates.joined(separator: ", "))")
        default:
            return Error(file: file, line: 0, column: 0, message: "not valid YAML/JSON: \(error)")
        }
    }

    /// Typed access to nodes with positioned errors.
    struct Reader {
        let file: String

        func error(_ node: Node, _ message: String) -> Error {
            Error(file: file, line: node.mark?.line ?? 0, column: node.mark?.column ?? 0, message: message)
        }

        func mapping(_ node: Node, _ name: String, keys: Set<String>) throws -> [String: Node] {
            guard case .mapping(let mapping) = node else { throw error(node, "\(name) must be a mapping (key: value lines)") }
            var result: [String: Node] = [:]
            for (key, value) in mapping {
                guard let text = key.string else { throw error(key, "keys must be text") }
                guard keys.contains(text) else {
                    let prefix = name == "the file" ? "" : "\(name)."
                    throw error(key, "unknown setting '\(prefix)\(text)'; known: \(keys.sorted().joined(separator: ", "))")
                }
                guard result[text] == nil else { throw error(key, "'\(text)' appears twice") }
                result[text] = value
            }
            return result
        }

        func string(_ node: Node, _ name: String) throws -> String {
            guard case .scalar(let scalar) = node, !scalar.string.isEmpty else { throw error(node, "\(name) must be a non-empty text value") }
            return scalar.string
        }

        func choice(_ node: Node, _ name: String, _ options: [String]) throws -> String {
            let value = try string(node, name)
            guard options.contains(value) else { throw error(node, "\(name) must be one of \(options.joined(separator: ", ")) (got '\(value)')") }
            return value
        }

        func int(_ node: Node, _ name: String, _ range: ClosedRange<Int>) throws -> Int {
            guard case .scalar = node, let value = node.int else { throw error(node, "\(name) must be a whole number") }
            guard range.contains(value) else { throw error(node, "\(name) must be between \(range.lowerBound) and \(range.upperBound) (got \(value))") }
            return value
        }

        /// A number of seconds (fractions allowed) within `range`.
        func seconds(_ node: Node, _ name: String, _ range: ClosedRange<Double>) throws -> Double {
            guard case .scalar = node, let value = node.float, value.isFinite else { throw error(node, "\(name) must be a number of seconds") }
            guard range.contains(value) else { throw error(node, "\(name) must be between \(range.lowerBound) and \(range.upperBound) seconds (got \(value))") }
            return value
        }

        func bool(_ node: Node, _ name: String) throws -> Bool {
            guard case .scalar = node, let value = node.bool else { throw error(node, "\(name) must be true or false") }
            return value
        }

        func strings(_ node: Node, _ name: String) throws -> [String] {
            guard case .sequence(let sequence) = node else { throw error(node, "\(name) must be a list, e.g. [a, b]") }
            guard sequence.count <= 1_000 else { throw error(node, "\(name) has more than 1,000 entries") }
            return try sequence.map { try string($0, "each entry of \(name)") }
        }
    }
}
