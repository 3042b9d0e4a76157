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
    }

    private let state = Mutex(State())
    private let readyGauge = Gauge(label: "qlik_mcp_health_ready")
    private let engineGauge = Gauge(label: "qlik_mcp_health_dependency_up", dimensions: [("dependency", "qlik_engine")])

    public init() {}

    public var isStarted: Bool { state.withLock { $0.started } }
    public var isDraining: Bool { state.withLock { $0.draining } }
    public var engine: Dependency { state.withLock { $0.engine } }
    public var isReady: Bool { state.withLock { $0.started && !$0.draining && $0.engine.up } }

    /// Readiness fails from now on (SIGTERM).
    public func startDraining() {
        state.withLock { $0.draining = true }
        readyGauge.record(0)
    }

    func record(engine dependency: Dependency) {
        let ready = state.withLock { state -> Bool in
            state.engine = dependency
            if dependency.up { state.started = true }
            return state.started && !state.draining && state.engine.up
        }
        engineGauge.record(dependency.up ? 1 : 0)
        readyGauge.record(ready ? 1 : 0)
    }

    /// The JSON body of `/readyz` and `/healthz`.
    func report() -> JSONValue {
        let (started, draining, engine) = state.withLock { ($0.started, $0.draining, $0.engine) }
        var dependency: [String: JSONValue] = ["up": .bool(engine.up), "detail": .string(engine.detail)]
        if let checked = engine.checkedAt { dependency["checked_at"] = .string(checked.formatted(.iso8601)) }
        if let latency = engine.latencyMilliseconds { dependency["latency_ms"] = .number((latency * 1000).rounded() / 1000) }
        let ready = started && !draining && engine.up
        return [
            "status": .string(ready ? "ready" : draining ? "draining" : started ? "degraded" : "starting"),
            "started": .bool(started), "draining": .bool(draining), "dependencies": ["qlik_engine": .object(dependency)],
        ]
    }
}

/// Checks the engine every `interval` (EngineVersion on a Global session, with a timeout).
struct EngineHealthChecker: Service {
    let backend: QlikBackend
    let health: HealthMonitor
    let interval: Duration
    let timeout: Duration

    func run() async throws {
        // Ends quietly on shutdown (the sleep is cancelled).
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await check()
                try await Task.sleep(for: health.engine.up ? interval : .milliseconds(200))
            }
        }
    }

    func check() async {
        let start = ContinuousClock.now
        let backend = self.backend
        let result =
            await withDeadline(timeout) { await Result { try await backend.withGlobal { try await $0.engineVersion() } } }
            ?? .failure(CheckTimeout(timeout: timeout))
        let elapsed = ContinuousClock.now - start
        let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        switch result {
        case .success(let version):
            health.record(engine: .init(up: true, detail: "\(backend.kind) engine \(version)", checkedAt: Date(), latencyMilliseconds: milliseconds))
        case .failure(let error):
            health.record(engine: .init(up: false, detail: String(describing: error).prefix(300).description, checkedAt: Date(), latencyMilliseconds: milliseconds))
        }
    }

    struct CheckTimeout: Error, CustomStringConvertible {
        let timeout: Duration
        var description: String { "the engine did not answer EngineVersion within \(timeout)" }
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
