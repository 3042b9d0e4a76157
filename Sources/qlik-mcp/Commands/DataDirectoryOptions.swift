import ArgumentParser
import ClusterState
import Foundation
import Logging
import Resilience

/// Where the server keeps what must survive a restart without Redis: the dead letters.
struct DataDirectoryOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Directory for durable local state (the dead letters of failed reloads and writes) when not --state redis. Default: ~/.local/state/qlik-mcp. Env: QLIK_MCP_DATA_DIR.",
            valueName: "path"))
    var dataDir: String?

    static var defaultDirectory: String {
        let home = ProcessEnvironment.current["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return (home as NSString).appendingPathComponent(".local/state/qlik-mcp")
    }

    var explicitDirectory: String? { dataDir ?? ProcessEnvironment.current["QLIK_MCP_DATA_DIR"].flatMap { $0.isEmpty ? nil : $0 } }

    /// The dead-letter store: the cluster's Redis stream, or a file in the data directory. An
    /// explicit directory that cannot be used is an error; the default one only a warning (the
    /// server then keeps no dead letters).
    func deadLetterStore(cluster: ClusterState?, fileDirectory: String? = nil, logger: Logger) throws -> (any DeadLetterStore)? {
        if let cluster { return RedisDeadLetterStore(pool: cluster.pool, keys: cluster.keys) }
        let explicitDirectory = self.explicitDirectory ?? fileDirectory
        let directory = explicitDirectory ?? Self.defaultDirectory
        do {
            return try FileDeadLetterStore(directory: directory)
        } catch {
            if explicitDirectory != nil { throw ValidationError("--data-dir \(directory) cannot be used: \(error)") }
            logger.warning(
                "no durable dead-letter queue: the default data directory cannot be used (give --data-dir)",
                metadata: ["qlik_mcp.data_dir": .string(directory)])
            return nil
        }
    }
}

extension DataDirectoryOptions {
    /// Where idempotency keys live: Redis with `--state redis` (a retry on another replica finds
    /// the first run), otherwise this process (keys are forgotten on restart). A running write
    /// holds its key for 10 minutes at most; results are kept for 24 hours.
    func idempotency(cluster: ClusterState?) -> Idempotency {
        let store: any IdempotencyStore = cluster.map { RedisIdempotencyStore(pool: $0.pool, keys: $0.keys) } ?? MemoryIdempotencyStore()
        return Idempotency(store: store, lease: .seconds(600), retention: .seconds(86_400))
    }
}
