import ArgumentParser
import ClusterState
import Foundation
import JSONCore
import RedisClient
import ServerSettings
import ToolCache

/// `qlik-mcp cache …`: the shared tool cache from outside the server.
struct CacheCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache",
        abstract: "Manage the tool cache shared in Redis (--cache redis).",
        subcommands: [CacheFlushCommand.self])
}

/// `qlik-mcp cache flush [--app ID]`: a new flush generation in Redis, announced to every replica.
struct CacheFlushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flush",
        abstract: "Drop cached tool answers on every replica (of one app, or all).",
        discussion: """
            Works on the Redis the servers share (--redis-url or QLIK_MCP_REDIS_URL, the same key prefix): the flush \
            generation of the app (or of everything) is raised and announced, so every replica stops using the old \
            answers at once. A server with --cache memory keeps its cache in its own process: call its flush_cache \
            tool (scope qlik:admin) instead.

            Example: qlik-mcp cache flush --app sales-analytics --redis-url redis://redis:6379/0
            """)

    @Option(help: ArgumentHelp("Only this app's answers (default: every app).", valueName: "id")) var app: String?
    @Option(help: ArgumentHelp("A YAML or JSON settings file (its state: section). Env: QLIK_MCP_CONFIG.", valueName: "path")) var config: String?
    @OptionGroup(title: "Redis") var state: StateOptions

    func validate() throws {
        if let app, app.isEmpty || app.count > 500 { throw ValidationError("--app must be 1 to 500 characters") }
    }

    func run() async throws {
        var file = ServerConfigFile()
        if let path = config ?? ProcessEnvironment.current["QLIK_MCP_CONFIG"] {
            do { file = try ServerConfigFile.load(path: path) } catch let error as ServerConfigFile.Error { throw ValidationError(error.description) }
        }
        let configuration: RedisConfiguration
        do {
            configuration = try state.redisConfiguration(file.state)
        } catch {
            throw ValidationError(
                "cache flush needs the Redis the servers share: --redis-url redis://host:6379/0 (or QLIK_MCP_REDIS_URL). A server with --cache memory: call its flush_cache tool.")
        }
        let pool = RedisConnectionPool(configuration: configuration, maxConnections: 1)
        let tier = RedisCacheTier(pool: pool, subscriber: RedisSubscriber(configuration: configuration), keys: ClusterKeys(prefix: try state.keyPrefix(file.state)))
        do {
            let scope = app?.lowercased() ?? "*"
            let generation = try await tier.bumpGeneration(scope)
            try await tier.publish(.flushed(app: app?.lowercased(), generation: generation))
            await pool.shutdown()
            print(JSONCoding.serialize(["scope": .string(scope), "generation": .number(Double(generation))]))
        } catch {
            await pool.shutdown()
            throw ValidationError("cannot flush the cache in Redis at \(configuration.url): \(error)")
        }
    }
}
