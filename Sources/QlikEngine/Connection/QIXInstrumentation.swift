import CoreMetrics
import JSONCore
import Metrics
import QIXWire
import Synchronization
import Tracing

/// Metrics and spans for QIX traffic: `qix_requests_total{method,outcome}`,
/// `qix_request_duration_seconds{method}`, `qix_connections_active`,
/// `qix_connection_errors_total{reason}`, and a client span `qix <Method>` per request.
///
/// Metric handles are cached per method (the method label is bounded: names outside the QIX
/// catalog are reported as `other`).
public final class QIXInstrumentation: Sendable {
    /// Uses the process-wide swift-metrics backend and tracer.
    public static let shared = QIXInstrumentation()

    private let factory: (any MetricsFactory)?
    private let tracer: (any Tracer)?
    private let handles = Mutex<[String: (ok: Counter, error: Counter, timer: Timer)]>([:])
    private let active: Gauge
    private let openCount = Atomic<Int>(0)
    private let errors = Mutex<[String: Counter]>([:])
    private static let knownMethods: Set<String> = Set(QIXCatalog.methods.values.flatMap(\.keys))

    /// - Parameters:
    ///   - factory: where metrics go; nil uses the global `MetricsSystem` backend.
    ///   - tracer: where spans go; nil uses the global `InstrumentationSystem` tracer.
    public init(factory: (any MetricsFactory)? = nil, tracer: (any Tracer)? = nil) {
        self.factory = factory
        self.tracer = tracer
        if let factory {
            active = Gauge(label: "qix_connections_active", factory: factory)
        } else {
            active = Gauge(label: "qix_connections_active")
        }  // The error series exist from the start (zeros), so rates and alerts have no gaps.
        for reason in ["connect", "protocol", "dropped", "health_check"] {
            errors.withLock { $0[reason] = counter("qix_connection_errors_total", [("reason", reason)]) }
        }
    }

    private func counter(_ label: String, _ dimensions: [(String, String)]) -> Counter {
        factory.map { Counter(label: label, dimensions: dimensions, factory: $0) } ?? Counter(label: label, dimensions: dimensions)
    }

    private func metrics(for method: String) -> (ok: Counter, error: Counter, timer: Timer) {
        let label = Self.knownMethods.contains(method) ? method : "other"
        return handles.withLock { cache in
            if let cached = cache[label] { return cached }
            let timer =
                factory.map { Timer(label: "qix_request_duration_seconds", dimensions: [("method", label)], factory: $0) }
                ?? Timer(label: "qix_request_duration_seconds", dimensions: [("method", label)])
            let entry = (
                counter("qix_requests_total", [("method", label), ("outcome", "ok")]),
                counter("qix_requests_total", [("method", label), ("outcome", "error")]), timer
            )
            cache[label] = entry
            return entry
        }
    }

    func measure<T>(method: String, handle: Int, engine: String, _ body: () async throws -> T) async throws -> T {
        let handles = metrics(for: method)
        let start = ContinuousClock.now
        return try await (tracer ?? InstrumentationSystem.tracer).withSpan("qix \(method)", ofKind: .client) { span in
            span.attributes["rpc.system"] = "jsonrpc"
            span.attributes["rpc.method"] = method
            span.attributes["qix.handle"] = handle
            span.attributes["server.address"] = engine
            do {
                let result = try await body()
                handles.timer.record(duration: .now - start)
                handles.ok.increment()
                return result
            } catch {
                handles.timer.record(duration: .now - start)
                handles.error.increment()
                if let qix = error as? QIXError {
                    span.attributes["qix.error.code"] = qix.code
                    span.attributes["error.type"] = qix.name
                }
                throw error
            }
        }
    }

    func connectionOpened() {
        active.record(openCount.add(1, ordering: .relaxed).newValue)
    }

    func connectionClosed() {
        active.record(openCount.subtract(1, ordering: .relaxed).newValue)
    }

    /// Counts a connection error; `reason` is one of a small fixed set (connect, protocol, dropped, health_check).
    func connectionError(reason: String) {
        errors.withLock { cache in
            if cache[reason] == nil { cache[reason] = counter("qix_connection_errors_total", [("reason", reason)]) }
            return cache[reason]!
        }.increment()
    }

    /// Connections open right now (through this instrumentation).
    public var openConnections: Int { openCount.load(ordering: .relaxed) }
}
