import ClusterState
import Foundation
import JSONCore
import Logging
import Metrics
import QlikTools
import ServiceLifecycle
import Synchronization

/// Health of the process for the probes. The engine is checked in the background, so probes
/// answer from memory and never call the engine on the request path.
public final class HealthMonitor: Sendable {
    public struct Dependency: Sendable {
        public var up: Bool
        public var detail: String
        public var checkedAt: Date?
        public var latencyMilliseconds: Double?
    }

    private struct State {
        var started = false
        var draining = false
        var engine = Dependency(up: false, detail: "not checked yet", checkedAt: nil)
        /// Redis, with `--state redis` (nil: not a dependency).
        var redis: Dependency?

        var ready: Bool { started && !draining && engine.up && redis?.up != false }
    }

    private let state = Mutex(State())
    /// The tool calls' breakers (shown in the reports) and whether an open engine breaker fails readiness.
    private let breakers = Mutex<(source: ToolResilience?, failsReadiness: Bool)>((nil, false))
    private let readyGauge = Gauge(label: "qlik_mcp_health_ready")
    private let engineGauge = Gauge(label: "qlik_mcp_health_dependency_up", dimensions: [("dependency", "qlik_engine")])
    private let redisGauge = Gauge(label: "qlik_mcp_health_dependency_up", dimensions: [("dependency", "redis")])

    public init() {}

    public var isStarted: Bool { state.withLock { $0.started } }
    public var isDraining: Bool { state.withLock { $0.draining } }
    public var engine: Dependency { state.withLock { $0.engine } }
    public var redis: Dependency? { state.withLock { $0.redis } }
    public var isReady: Bool { state.withLock { $0.ready } && !breakerFailsReadiness }

    /// Shows the breakers of `resilience` in `/readyz` and `/healthz`; with `failsReadiness`, an
    /// engine breaker that is not closed fails readiness (off by default: when every replica shares
    /// the failing engine, taking them all out of the load balancer helps nobody).
    public func watch(_ resilience: ToolResilience?, failsReadiness: Bool) {
        breakers.withLock { $0 = (resilience, failsReadiness) }
    }

    private var breakerFailsReadiness: Bool {
        let (source, fails) = breakers.withLock { $0 }
        return fails && source?.engineDegraded == true
    }

    /// Redis becomes a dependency of readiness (`--state redis`).
    func expectRedis() {
        state.withLock { $0.redis = Dependency(up: false, detail: "not checked yet", checkedAt: nil) }
        redisGauge.record(0)
    }

    func record(redis dependency: Dependency) {
        let ready = state.withLock { state -> Bool in
            state.redis = dependency
            return state.ready
        }
        redisGauge.record(dependency.up ? 1 : 0)
        readyGauge.record(ready ? 1 : 0)
    }

    /// Readiness fails from now on (SIGTERM).
    public func startDraining() {
        state.withLock { $0.draining = true }
        readyGauge.record(0)
    }

    func record(engine dependency: Dependency) {
        let ready = state.withLock { state -> Bool in
            state.engine = dependency
            if dependency.up { state.started = true }
            return state.ready
        }
        engineGauge.record(dependency.up ? 1 : 0)
        readyGauge.record(ready ? 1 : 0)
    }

    /// The JSON body of `/readyz` and `/healthz`.
    func report() -> JSONValue {
        let current = state.withLock { $0 }
        let resilience = breakers.withLock { $0.source }
        var engine = Self.json(current.engine)
        let degraded = resilience?.engineDegraded == true
        if degraded, case .object(var fields) = engine {
            fields["degraded"] = true
            fields["detail"] = .string("an engine circuit breaker is open: calls fail fast until its probes succeed")
            engine = .object(fields)
        }
        var dependencies: [String: JSONValue] = ["qlik_engine": engine]
        if let redis = current.redis { dependencies["redis"] = Self.json(redis) }
        let ready = current.ready && !breakerFailsReadiness
        var report: [String: JSONValue] = [
            "status": .string(ready ? (degraded ? "degraded" : "ready") : current.draining ? "draining" : current.started ? "degraded" : "starting"),
            "started": .bool(current.started), "draining": .bool(current.draining), "dependencies": .object(dependencies),
        ]
        if let resilience {
            report["circuit_breakers"] = .array(
                resilience.statuses.prefix(100).map { status in
                    [
                        "name": .string(status.name), "class": .string(status.breakerClass), "state": .string(status.state),
                        "since": .string(status.since.formatted(.iso8601)), "calls": .number(Double(status.calls)),
                        "failures": .number(Double(status.failures)), "slow_calls": .number(Double(status.slowCalls)),
                    ]
                })
        }
        return .object(report)
    }

    private static func json(_ dependency: Dependency) -> JSONValue {
        var object: [String: JSONValue] = ["up": .bool(dependency.up), "detail": .string(dependency.detail)]
        if let checked = dependency.checkedAt { object["checked_at"] = .string(checked.formatted(.iso8601)) }
        if let latency = dependency.latencyMilliseconds { object["latency_ms"] = .number((latency * 1000).rounded() / 1000) }
        return .object(object)
    }
}

/// Checks the engine every `interval` (EngineVersion on a Global session, with a timeout).
struct EngineHealthChecker: Service {
    let backend: QlikBackend
    let health: HealthMonitor
    let interval: Duration
    let timeout: Duration

    func run() async throws {
        await HealthMonitor.checkUntilShutdown(every: interval) {
            await check()
            return health.engine.up
        }
    }

    func check() async {
        let backend = self.backend
        let timeout = self.timeout
        health.record(
            engine: await HealthMonitor.Dependency.probe {
                let answer = await withDeadline(timeout) { await Result { try await backend.withGlobal { try await $0.engineVersion() } } }
                guard let answer else { throw CheckTimeout(timeout: timeout) }
                return "\(backend.kind) engine \(try answer.get())"
            })
    }

    struct CheckTimeout: Error, CustomStringConvertible {
        let timeout: Duration
        var description: String { "the engine did not answer EngineVersion within \(timeout)" }
    }
}

/// Pings Redis every `interval` (every 200 ms while it is down, so readiness returns quickly).
struct RedisHealthChecker: Service {
    let cluster: ClusterState
    let health: HealthMonitor
    let interval: Duration

    func run() async throws {
        await HealthMonitor.checkUntilShutdown(every: interval) {
            health.record(
                redis: await HealthMonitor.Dependency.probe {
                    try await cluster.ping()
                    return "PONG"
                })
            return health.redis?.up == true
        }
    }
}

extension HealthMonitor {
    /// Runs `check` every `interval`, every 200 ms while it reports the dependency down (so
    /// readiness returns quickly); ends quietly on shutdown (the sleep is cancelled).
    static func checkUntilShutdown(every interval: Duration, _ check: @escaping @Sendable () async -> Bool) async {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let up = await check()
                try await Task.sleep(for: up ? interval : .milliseconds(200))
            }
        }
    }
}

extension HealthMonitor.Dependency {
    /// Runs one check: up with the detail `body` returns, or down with its error; timed.
    static func probe(_ body: () async throws -> String) async -> HealthMonitor.Dependency {
        let start = ContinuousClock.now
        let result = await Result { try await body() }
        let elapsed = ContinuousClock.now - start
        let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        switch result {
        case .success(let detail): return .init(up: true, detail: detail, checkedAt: Date(), latencyMilliseconds: milliseconds)
        case .failure(let error): return .init(up: false, detail: String(describing: error).prefix(300).description, checkedAt: Date(), latencyMilliseconds: milliseconds)
        }
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
