import DemoEngine
import Foundation
import JSONCore
import QlikEngine
import ServiceContextModule
import Telemetry
import Testing
import Tracing

@Suite("QIX instrumentation and change tracking")
struct InstrumentationTests {
    @Test("every request is counted and timed per method and outcome; connections are gauged")
    func metrics() async throws {
        let metrics = TelemetryMetrics()
        let instrumentation = QIXInstrumentation(factory: metrics.factory)
        let connection = try await QIXConnection.connect(to: await DemoEngineFixture.endpoint(), appID: nil, instrumentation: instrumentation)
        #expect(instrumentation.openConnections == 1)
        let global = Global(connection: connection)
        for _ in 0..<3 { _ = try await global.engineVersion() }
        _ = try? await global.openDoc("missing-app")
        _ = try? await connection.call(handle: -1, method: "MadeUpMethod")
        let text = metrics.render()
        #expect(text.contains(#"qix_requests_total{method="EngineVersion",outcome="ok"} 3"#))
        #expect(text.contains(#"qix_requests_total{method="OpenDoc",outcome="error"} 1"#))
        #expect(text.contains(#"qix_requests_total{method="other",outcome="error"} 1"#), "unknown method names are folded into 'other'")
        #expect(text.contains(#"qix_request_duration_seconds_count{method="EngineVersion"} 3"#))
        #expect(text.contains("qix_connections_active 1"))
        connection.close()
        #expect(instrumentation.openConnections == 0)
        #expect(metrics.render().contains("qix_connections_active 0"))
        // A failed connection attempt is counted.
        _ = try? await QIXConnection.connect(to: .desktop(host: "127.0.0.1", port: 1), appID: nil, instrumentation: instrumentation)
        #expect(metrics.render().contains(#"qix_connection_errors_total{reason="connect"} 1"#))
    }

    @Test("a span 'qix <Method>' per request, child of the caller's span")
    func spans() async throws {
        let collector = InMemorySpanProcessor()
        let tracer = QlikTracer(sampler: .alwaysOn, processor: collector)
        let connection = try await QIXConnection.connect(
            to: await DemoEngineFixture.endpoint(), appID: nil,
            instrumentation: QIXInstrumentation(tracer: tracer))
        defer { connection.close() }
        let parent = tracer.startSpan("tool call")
        try await ServiceContext.withValue(parent.context) {
            _ = try await Global(connection: connection).engineVersion()
        }
        parent.end()
        let spans = collector.spans
        let qix = try #require(spans.first { $0.name == "qix EngineVersion" })
        #expect(qix.kind == .client)
        #expect(qix.parentSpanID == parent.spanContext.spanID)
        #expect(qix.attributes.get("rpc.method") == .string("EngineVersion"))
    }

    @Test("selections report changed handles")
    func changes() async throws {
        let (connection, doc) = try await DemoEngineFixture.openSales()
        defer { connection.close() }
        _ = connection.takeChangedHandles()
        try await doc.field("Category").select("Bikes")
        let changed = connection.takeChangedHandles()
        #expect(changed.contains(doc.handle))
        #expect(connection.takeChangedHandles().isEmpty)
    }
}
