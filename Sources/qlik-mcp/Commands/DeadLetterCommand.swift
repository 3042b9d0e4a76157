import ArgumentParser
import ClusterState
import Foundation
import JSONCore
import Logging
import QlikTools
import RedisClient
import Resilience
import ServerSettings

/// `qlik-mcp dlq …`: the failed reloads and writes kept for a retry.
struct DeadLetterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq",
        abstract: "List, show, retry or drop failed reloads and writes (the dead-letter queue).",
        discussion: """
            Reads the queue a server keeps: the file in --data-dir (default ~/.local/state/qlik-mcp), or with \
            --redis-url the Redis stream of servers run with --state redis. Running servers offer the same as the \
            tools list_dead_letters, retry_dead_letter and drop_dead_letter (scope qlik:admin).
            """,
        subcommands: [List.self, Show.self, Retry.self, Drop.self])

    /// Where the queue is.
    struct Location: ParsableArguments {
        @OptionGroup var data: DataDirectoryOptions
        @OptionGroup(title: "Redis (--state redis servers)") var state: StateOptions

        func store() async throws -> (any DeadLetterStore, @Sendable () async -> Void) {
            if state.redisURL != nil || ProcessEnvironment.current["QLIK_MCP_REDIS_URL"] != nil {
                let configuration = try state.redisConfiguration(ServerConfigFile.State())
                let pool = RedisConnectionPool(configuration: configuration, maxConnections: 1)
                let keys = ClusterKeys(prefix: try state.keyPrefix(ServerConfigFile.State()))
                return (RedisDeadLetterStore(pool: pool, keys: keys), { await pool.shutdown() })
            }
            let directory = data.explicitDirectory ?? DataDirectoryOptions.defaultDirectory
            do {
                return (try FileDeadLetterStore(directory: directory), {})
            } catch {
                throw ValidationError("cannot read the dead letters in \(directory): \(error)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the kept failed operations as JSON lines, oldest first.")
        @OptionGroup var location: Location
        @Option(help: "Most letters printed.") var limit = 100

        func run() async throws {
            let (store, close) = try await location.store()
            defer { Task { await close() } }
            for letter in try await store.list(limit: max(1, min(limit, 10_000))) { print(JSONCoding.serialize(DeadLetterTools.json(letter))) }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print one failed operation as JSON.")
        @OptionGroup var location: Location
        @Argument(help: "The dead letter's id.") var id: String

        func run() async throws {
            let (store, close) = try await location.store()
            defer { Task { await close() } }
            guard let letter = try await store.get(id) else { throw ValidationError("no dead letter \(id) (see qlik-mcp dlq list)") }
            print(JSONCoding.serialize(DeadLetterTools.json(letter)))
        }
    }

    struct Drop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a failed operation without running it.")
        @OptionGroup var location: Location
        @Argument(help: "The dead letter's id.") var id: String

        func run() async throws {
            let (store, close) = try await location.store()
            defer { Task { await close() } }
            guard try await store.remove(id) else { throw ValidationError("no dead letter \(id) (see qlik-mcp dlq list)") }
            print("dropped \(id)")
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a failed operation again on the engine (the same --engine options as serve); it leaves the queue when it succeeds.")
        @OptionGroup var location: Location
        @OptionGroup var engine: EngineOptions
        @Argument(help: "The dead letter's id.") var id: String

        func run() async throws {
            let (store, close) = try await location.store()
            defer { Task { await close() } }
            guard var letter = try await store.get(id) else { throw ValidationError("no dead letter \(id) (see qlik-mcp dlq list)") }
            let quiet = Logger(label: "qlik-mcp.dlq") { _ in SwiftLogNoOpLogHandler() }
            let (backend, stopDemo) = try await engine.makeBackend(logger: quiet)
            let (succeeded, result) = try await DeadLetterReplay.run(letter, context: ToolContext(backend: backend, sessionID: "dlq-retry"))
            await backend.pool.closeIdle()
            await stopDemo()
            print(JSONCoding.serialize(["id": .string(id), "succeeded": .bool(succeeded), "result": result]))
            if succeeded {
                try await store.remove(id)
            } else {
                letter.retries += 1
                try await store.append(letter)
                throw ExitCode(2)
            }
        }
    }
}
