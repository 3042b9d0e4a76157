import Metrics
import Synchronization
import Tracing

/// Telemetry of the Redis client: a client span per round trip (OpenTelemetry database
/// conventions: `db.system.name=redis`, `db.operation.name`, `server.address`/`server.port`,
/// `db.namespace` = the database index) under the calling span, and the metrics
/// `qlik_mcp_redis_commands_total{command,outcome}` and
/// `qlik_mcp_redis_command_duration_seconds{command}`. The command label is the command name
/// (or the script's name for `EVALSHA`), a small fixed set chosen by the code, never user input.
final class RedisInstrumentation: Sendable {
    let url: RedisURL
    /// Metric handles by label set (the project's pattern: no factory lookup per round trip).
    private struct Series: Hashable {
        let command: String
        let outcome: String
    }
    private let counters = Mutex<[Series: Counter]>([:])
    private let timers = Mutex<[String: Metrics.Timer]>([:])

    init(url: RedisURL) {
        self.url = url
    }

    func measure<T: Sendable>(_ command: String, operation: String?, _ body: @Sendable () async throws -> T) async throws -> T {
        let label = operation ?? command
        let start = ContinuousClock.now
        return try await withSpan(operation.map { "\(command) \($0)" } ?? command, ofKind: .client) { span in
            span.attributes["db.system.name"] = "redis"
            span.attributes["db.operation.name"] = command
            if let operation { span.attributes["db.stored_procedure.name"] = operation }
            span.attributes["db.namespace"] = String(url.database)
            span.attributes["server.address"] = url.host
            span.attributes["server.port"] = url.port
            do {
                let result = try await body()
                record(label, outcome: "ok", since: start)
                return result
            } catch {
                let outcome = Self.outcome(error)
                span.attributes["error.type"] = outcome
                span.setStatus(.init(code: .error))
                record(label, outcome: outcome, since: start)
                throw error
            }
        }
    }

    private func record(_ command: String, outcome: String, since start: ContinuousClock.Instant) {
        let series = Series(command: command, outcome: outcome)
        let counter = counters.withLock { cache in
            if let counter = cache[series] { return counter }
            let counter = Counter(label: "qlik_mcp_redis_commands_total", dimensions: [("command", command), ("outcome", outcome)])
            cache[series] = counter
            return counter
        }
        let timer = timers.withLock { cache in
            if let timer = cache[command] { return timer }
            let timer = Metrics.Timer(label: "qlik_mcp_redis_command_duration_seconds", dimensions: [("command", command)])
            cache[command] = timer
            return timer
        }
        counter.increment()
        timer.recordInterval(since: start)
    }

    /// A bounded outcome label for an error.
    static func outcome(_ error: any Error) -> String {
        switch error as? RedisError {
        case .server: return "server_error"
        case .timeout: return "timeout"
        case .connectionClosed: return "connection_closed"
        case .protocolViolation: return "protocol_error"
        case .configuration: return "configuration"
        case .unavailable: return "unavailable"
        case nil: return "other"
        }
    }
}

extension Metrics.Timer {
    func recordInterval(since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
    }
}
