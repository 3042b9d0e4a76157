import ArgumentParser
import ClusterState
import Foundation
import Logging
import RedisClient
import ServerSettings

/// Where `serve` keeps session state: in this process (`memory`, the default, and the only
/// choice for stdio) or in Redis (`redis`), shared by every replica behind a load balancer.
/// The Redis password comes from a file or the environment, never from a flag or the config file.
struct StateOptions: ParsableArguments {
    @Option(help: ArgumentHelp("memory (one process) or redis (replicas share sessions, streams and OAuth state). Env: QLIK_MCP_STATE.", valueName: "mode"))
    var state: String?
    @Option(help: ArgumentHelp("redis://[user@]host:port/db or rediss:// (TLS). Env: QLIK_MCP_REDIS_URL (may carry the password).", valueName: "url"))
    var redisURL: String?
    @Option(help: ArgumentHelp("File holding the Redis password (or env QLIK_MCP_REDIS_PASSWORD). Env: QLIK_MCP_REDIS_PASSWORD_FILE.", valueName: "path"))
    var redisPasswordFile: String?
    @Option(help: ArgumentHelp("PEM file of the CA that signed Redis's certificate (rediss://). Env: QLIK_MCP_REDIS_CA_FILE.", valueName: "path"))
    var redisCAFile: String?
    @Option(help: ArgumentHelp("Prefix of every key qlik-mcp writes (default qlik-mcp:). Env: QLIK_MCP_REDIS_KEY_PREFIX.", valueName: "prefix"))
    var redisKeyPrefix: String?

    private func env(_ name: String) -> String? { ProcessEnvironment.current[name].flatMap { $0.isEmpty ? nil : $0 } }

    /// The mode: flag, environment, file, default `memory`.
    func mode(_ file: ServerConfigFile.State) throws -> String {
        let mode = (state ?? env("QLIK_MCP_STATE") ?? file.mode ?? "memory").lowercased()
        guard mode == "memory" || mode == "redis" else { throw ValidationError("--state must be memory or redis (got '\(mode)')") }
        return mode
    }

    /// The Redis connection settings (`--state redis`).
    /// `url` replaces the configured URL (the cache's own Redis); password and CA stay.
    func redisConfiguration(_ file: ServerConfigFile.State, url override: String? = nil) throws -> RedisConfiguration {
        guard let text = override ?? redisURL ?? env("QLIK_MCP_REDIS_URL") ?? file.redisURL else {
            throw ValidationError("--state redis needs --redis-url redis://host:6379/0 (or QLIK_MCP_REDIS_URL, or state.redis_url in the config file)")
        }
        let url: RedisURL
        do { url = try RedisURL(parsing: text) } catch { throw ValidationError("--redis-url: \(error)") }
        var configuration = RedisConfiguration(url: url, caFile: redisCAFile ?? env("QLIK_MCP_REDIS_CA_FILE") ?? file.redisCAFile)
        if configuration.caFile != nil, !url.tls { throw ValidationError("--redis-ca-file is for rediss:// (TLS) URLs; this URL is \(url)") }
        if let path = redisPasswordFile ?? env("QLIK_MCP_REDIS_PASSWORD_FILE") ?? file.redisPasswordFile {
            guard let data = FileManager.default.contents(atPath: path), data.count <= 4_096 else {
                throw ValidationError("cannot read the Redis password file \(path) (check the path and permissions; at most 4 KiB)")
            }
            configuration.password = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        } else if let password = env("QLIK_MCP_REDIS_PASSWORD") {
            configuration.password = password
        }
        return configuration
    }

    /// The prefix of every Redis key (default `qlik-mcp:`).
    func keyPrefix(_ file: ServerConfigFile.State) throws -> String {
        let prefix = redisKeyPrefix ?? env("QLIK_MCP_REDIS_KEY_PREFIX") ?? file.keyPrefix ?? "qlik-mcp:"
        guard !prefix.isEmpty, prefix.count <= 64, !prefix.contains(where: { $0.isWhitespace }) else {
            throw ValidationError("--redis-key-prefix must be 1 to 64 characters without spaces")
        }
        return prefix
    }

    /// The shared state, connected and checked (`--state redis`); nil for `memory`. Fails with a
    /// clear message when Redis cannot be reached at start-up, so a misconfigured replica never
    /// comes up half-working.
    func makeCluster(_ file: ServerConfigFile.State, idleTimeout: Duration, logger: Logger) async throws -> ClusterState? {
        guard try mode(file) == "redis" else { return nil }
        let configuration = try redisConfiguration(file)
        let prefix = try keyPrefix(file)
        let cluster = ClusterState(configuration: configuration, keys: ClusterKeys(prefix: prefix), idleTimeout: idleTimeout, logger: logger)
        do {
            try await cluster.ping()
        } catch {
            await cluster.shutdown()
            throw ValidationError("cannot use Redis at \(configuration.url): \(error)")
        }
        logger.info(
            "shared state in redis",
            metadata: [
                "server.address": .string(configuration.url.host), "server.port": .stringConvertible(configuration.url.port),
                "qlik_mcp.replica": .string(cluster.replicaID),
            ])
        return cluster
    }
}
