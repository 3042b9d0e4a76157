import ArgumentParser
import ClusterState
import Foundation
import Logging
import QlikTools
import RateLimiting
import ServerSettings

/// Rate limits and the engine concurrency limit (`serve`): flags, then `QLIK_MCP_RATE_LIMIT_*`,
/// then the config file's `limits:` section. Rates are `COUNT/UNIT` (`5/s`, `300/m`, `100/h`).
struct RateLimitOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Tool calls per principal (token subject or API key; all callers together without auth), e.g. 5/s. Env: QLIK_MCP_RATE_LIMIT_PRINCIPAL.", valueName: "rate"))
    var rateLimitPrincipal: String?
    @Option(help: ArgumentHelp("Burst of the principal limit (default: one second's worth, at least 1). Env: QLIK_MCP_RATE_LIMIT_BURST.", valueName: "n"))
    var rateLimitBurst: Int?
    @Option(help: ArgumentHelp("Per tool and principal, e.g. query_data=5/s,reload_app=1/m (burst: one second's worth, at least 1). Env: QLIK_MCP_RATE_LIMIT_TOOL.", valueName: "list"))
    var rateLimitTool: String?
    @Option(help: ArgumentHelp("All tool calls of a tenant together (one tenant until tenancy is configured), e.g. 200/s. Env: QLIK_MCP_RATE_LIMIT_TENANT.", valueName: "rate"))
    var rateLimitTenant: String?
    @Option(help: ArgumentHelp("Per client IP on the unauthenticated OAuth endpoints (default 30/m; off to disable). Env: QLIK_MCP_RATE_LIMIT_IP.", valueName: "rate"))
    var rateLimitIP: String?
    @Option(help: ArgumentHelp("Burst of the IP limit (default 10). Env: QLIK_MCP_RATE_LIMIT_IP_BURST.", valueName: "n"))
    var rateLimitIPBurst: Int?
    @Option(help: ArgumentHelp("Replicas sharing the limits, used only when Redis cannot be asked: each then admits its share (default 1). Env: QLIK_MCP_REPLICAS.", valueName: "n"))
    var replicas: Int?
    @Option(help: ArgumentHelp("Concurrent engine calls: adaptive (default; follows engine latency, sheds when saturated) or off. Env: QLIK_MCP_ENGINE_CONCURRENCY.", valueName: "mode"))
    var engineConcurrency: String?

    private func env(_ name: String) -> String? { ProcessEnvironment.current[name].flatMap { $0.isEmpty ? nil : $0 } }

    static func rate(_ text: String, flag: String) throws -> Double {
        switch RateLimit.parse(rate: text) {
        case .success(let perSecond): return perSecond
        case .failure(let error):
            let key = ["rate-limit-tool": "tools", "rate-limit-ip": "ip"][flag] ?? flag.replacingOccurrences(of: "rate-limit-", with: "")
            throw ValidationError("--\(flag) (config limits.\(key)): \(error.description)")
        }
    }

    static func defaultBurst(_ perSecond: Double) -> Int { max(1, Int(perSecond.rounded(.up))) }

    static func burst(_ value: Int?, flag: String) throws -> Int? {
        guard let value else { return nil }
        guard (1...1_000_000).contains(value) else { throw ValidationError("--\(flag) must be between 1 and 1000000 (got \(value))") }
        return value
    }

    func settings(_ file: ServerConfigFile.Limits = .init()) throws -> ToolLimits.Settings {
        var settings = ToolLimits.Settings()
        if let text = rateLimitPrincipal ?? env("QLIK_MCP_RATE_LIMIT_PRINCIPAL") ?? file.principal {
            let perSecond = try Self.rate(text, flag: "rate-limit-principal")
            let burst = try Self.burst(rateLimitBurst ?? env("QLIK_MCP_RATE_LIMIT_BURST").flatMap { Int($0) } ?? file.principalBurst, flag: "rate-limit-burst")
            settings.principal = RateLimit(name: "principal", perSecond: perSecond, burst: burst ?? Self.defaultBurst(perSecond))
        } else if rateLimitBurst != nil {
            throw ValidationError("--rate-limit-burst needs --rate-limit-principal")
        }
        var tools = file.tools ?? [:]
        if let text = rateLimitTool ?? env("QLIK_MCP_RATE_LIMIT_TOOL") {
            tools = [:]
            for item in text.split(separator: ",") {
                let parts = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2, !parts[0].isEmpty else { throw ValidationError("--rate-limit-tool: '\(item)' is not TOOL=RATE") }
                tools[parts[0]] = parts[1]
            }
        }
        let known = Set(StandardToolsets.all.flatMap { $0.tools.map(\.name) } + ["flush_cache", "list_dead_letters", "retry_dead_letter", "drop_dead_letter"])
        for (tool, text) in tools {
            guard known.contains(tool) else { throw ValidationError("--rate-limit-tool: unknown tool '\(tool)'") }
            let perSecond = try Self.rate(text, flag: "rate-limit-tool")
            settings.tools[tool] = RateLimit(name: "tool:" + tool, perSecond: perSecond, burst: Self.defaultBurst(perSecond))
        }
        if let text = rateLimitTenant ?? env("QLIK_MCP_RATE_LIMIT_TENANT") ?? file.tenant {
            let perSecond = try Self.rate(text, flag: "rate-limit-tenant")
            settings.tenant = RateLimit(name: "tenant", perSecond: perSecond, burst: Self.defaultBurst(perSecond))
        }
        switch engineConcurrency ?? env("QLIK_MCP_ENGINE_CONCURRENCY") ?? file.engineConcurrency ?? "adaptive" {
        case "adaptive":
            var configuration = AdaptiveConcurrencyLimiter.Configuration()
            // As long as the pool would wait for a connection: shedding never refuses a call the
            // pool would have served in time (a burst of 100 calls on a 300 ms engine drains in ~1 s).
            configuration.maxWait = .seconds(5)
            configuration.maxQueue = 4_096
            configuration.minLimit = 4
            configuration.maxLimit = 512
            settings.concurrency = configuration
        case "off": settings.concurrency = nil
        case let other: throw ValidationError("--engine-concurrency must be adaptive or off (got '\(other)')")
        }
        return settings
    }

    /// The per-IP limit of the OAuth endpoints (nil: off).
    func ipLimit(_ file: ServerConfigFile.Limits = .init()) throws -> RateLimit? {
        let text = rateLimitIP ?? env("QLIK_MCP_RATE_LIMIT_IP") ?? file.ip ?? "30/m"
        if text == "off" { return nil }
        let perSecond = try Self.rate(text, flag: "rate-limit-ip")
        let burst = try Self.burst(rateLimitIPBurst ?? env("QLIK_MCP_RATE_LIMIT_IP_BURST").flatMap { Int($0) } ?? file.ipBurst, flag: "rate-limit-ip-burst") ?? 10
        return RateLimit(name: "ip", perSecond: perSecond, burst: burst)
    }

    /// The limiter: Redis for the cluster (falling back to this process's share), else this process.
    func limiter(cluster: ClusterState?, file: ServerConfigFile.Limits = .init(), logger: Logger) throws -> any RateLimiter {
        let count = replicas ?? env("QLIK_MCP_REPLICAS").flatMap { Int($0) } ?? file.replicas ?? 1
        guard (1...1_000).contains(count) else { throw ValidationError("--replicas must be between 1 and 1000 (got \(count))") }
        guard let cluster else { return LocalRateLimiter() }
        return RedisRateLimiter(pool: cluster.pool, keys: cluster.keys, fallback: LocalRateLimiter(share: 1 / Double(count)), logger: logger)
    }
}
