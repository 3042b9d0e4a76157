import Foundation
import Logging
import TestSupport
import Testing
import Tracing

@testable import Telemetry

/// OTLP/HTTP export against a real loopback collector started by each test.
@Suite("OTLP export", .serialized)
struct OTLPExportTests {
    private func makePipeline(
        url: String,
        timeout: Duration = .seconds(5),
        maxAttempts: Int = 5,
        batch: BatchSpanProcessor.Configuration = .init(scheduledDelay: .seconds(3600)),
        headers: [(String, String)] = []
    ) -> (QlikTracer, BatchSpanProcessor, TelemetryMetrics) {
        let metrics = TelemetryMetrics()
        var resourceAttributes = try! TelemetryResource.fromEnvironment([
            "OTEL_SERVICE_NAME": "qlik-mcp-test",
            "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=ci,team=bi%20tools",
        ]).attributes
        resourceAttributes["service.instance.id"] = "instance-1"
        let exporter = OTLPHTTPExporter(
            configuration: OTLPExporterConfiguration(
                url: url, headers: headers, timeout: timeout, maxAttempts: maxAttempts,
                initialBackoff: .milliseconds(50)),
            resource: TelemetryResource(attributes: resourceAttributes),
            metricsFactory: metrics.factory,
            logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        let processor = BatchSpanProcessor(exporter: exporter, configuration: batch, metricsFactory: metrics.factory)
        return (QlikTracer(sampler: .alwaysOn, processor: processor), processor, metrics)
    }

    @Test("spans arrive as OTLP protobuf with ids, parent links, names, attributes, resource and status")
    func roundTrip() async throws {
        let receiver = TestOTLPReceiver()
        try await receiver.run { (base: String) async throws in
            let (tracer, processor, metrics) = makePipeline(url: base + "/v1/traces", headers: [("x-tenant", "acme")])
            var parentContext: SpanContext?
            var childContext: SpanContext?
            tracer.withSpan("tools/call query_data", ofKind: .server) { parent in
                parentContext = parent.spanContext
                parent.attributes["mcp.method.name"] = "tools/call"
                parent.attributes["gen_ai.tool.name"] = "query_data"
                parent.attributes["rows"] = 42
                parent.attributes["user.email"] = "jane@example.com"
                parent.attributes["authorization"] = "Bearer secret-token-value"
                tracer.withSpan("qix GetLayout", ofKind: .client) { child in
                    childContext = child.spanContext
                    child.addEvent(SpanEvent(name: "cache.miss", attributes: ["key": "sales"]))
                    child.setStatus(SpanStatus(code: .error, message: "engine busy for 10.0.0.7"))
                }
            }
            let result = await processor.forceFlush()
            #expect(result.succeeded)

            let requests = receiver.received
            #expect(requests.count == 1)
            let request = try #require(requests.first)
            #expect(request.path == "/v1/traces")
            #expect(request.contentType == "application/x-protobuf")
            #expect(request.headers["x-tenant"] == "acme")
            let decoded = try request.decoded()
            let resourceSpans = try #require(decoded.resourceSpans.first)
            let resource = Dictionary(uniqueKeysWithValues: resourceSpans.resource.attributes.map { ($0.key, $0.value.stringValue) })
            #expect(resource["service.name"] == "qlik-mcp-test")
            #expect(resource["service.version"] == QlikMCPVersion.current)
            #expect(resource["service.instance.id"] == "instance-1")
            #expect(resource["process.pid"] == String(getpid()))
            #expect(resource["host.name"]?.isEmpty == false)
            #expect(resource["deployment.environment"] == "ci")
            #expect(resource["team"] == "bi tools")
            let spans = try #require(resourceSpans.scopeSpans.first).spans
            #expect(spans.count == 2)
            let parent = try #require(spans.first { $0.name == "tools/call query_data" })
            let child = try #require(spans.first { $0.name == "qix GetLayout" })
            let p = try #require(parentContext)
            let c = try #require(childContext)
            #expect(parent.traceID == Data(p.traceID.bytes))
            #expect(parent.spanID == Data(p.spanID.bytes))
            #expect(parent.parentSpanID.isEmpty)
            #expect(child.traceID == parent.traceID)
            #expect(child.spanID == Data(c.spanID.bytes))
            #expect(child.parentSpanID == parent.spanID)
            #expect(parent.kind == .server && child.kind == .client)
            #expect(parent.endTimeUnixNano >= child.endTimeUnixNano && child.startTimeUnixNano >= parent.startTimeUnixNano)
            let attributes = Dictionary(uniqueKeysWithValues: parent.attributes.map { ($0.key, $0.value) })
            #expect(attributes["mcp.method.name"]?.stringValue == "tools/call")
            #expect(attributes["rows"]?.intValue == 42)
            #expect(attributes["user.email"]?.stringValue == "[REDACTED:email]")
            #expect(attributes["authorization"]?.stringValue == "[REDACTED:authorization]")
            #expect(child.status.code == .error)
            #expect(child.status.message == "engine busy for [REDACTED:ipv4]")
            #expect(child.events.first?.name == "cache.miss")
            #expect(!request.body.contains("jane@example.com".data(using: .utf8)!))
            #expect(metrics.render().contains("qlik_mcp_telemetry_spans_exported_total 2"))
            _ = await processor.shutdown(timeout: .seconds(1))
        }
    }

    @Test("collector down: the caller is not blocked and the failure is counted")
    func collectorDown() async throws {
        let port = closedLoopbackPort()
        let (tracer, processor, metrics) = makePipeline(url: "http://127.0.0.1:\(port)/v1/traces", maxAttempts: 1)
        for index in 0..<5 { tracer.startSpan("span \(index)").end() }
        let result = await processor.forceFlush()
        #expect(!result.succeeded)
        let exposition = try Exposition(metrics.render())
        #expect(exposition.value("qlik_mcp_telemetry_export_failures_total", ["reason": "connection"]) == 1)
        #expect(exposition.value("qlik_mcp_telemetry_spans_exported_total") == 0)
        _ = await processor.shutdown(timeout: .seconds(1))
    }

    @Test("429 with Retry-After: 1 is retried after at least one second")
    func retryAfter() async throws {
        let receiver = TestOTLPReceiver { index in index == 1 ? .status(429, retryAfter: "1") : .ok }
        try await receiver.run { (base: String) async throws in
            let (tracer, processor, metrics) = makePipeline(url: base + "/v1/traces")
            tracer.startSpan("retried").end()
            let result = await processor.forceFlush()
            #expect(result.succeeded)
            let requests = receiver.received
            #expect(requests.count == 2)
            if requests.count == 2 {
                #expect(requests[1].at - requests[0].at >= .seconds(1))
                #expect(requests[0].body == requests[1].body)
            }
            let exposition = try Exposition(metrics.render())
            #expect(exposition.value("qlik_mcp_telemetry_export_retries_total") == 1)
            #expect(exposition.value("qlik_mcp_telemetry_spans_exported_total") == 1)
            _ = await processor.shutdown(timeout: .seconds(1))
        }
    }

    @Test("503 without Retry-After backs off and gives up after the configured attempts")
    func givesUp() async throws {
        let receiver = TestOTLPReceiver { _ in .status(503, retryAfter: nil) }
        try await receiver.run { (base: String) async throws in
            let (tracer, processor, metrics) = makePipeline(url: base + "/v1/traces", maxAttempts: 3)
            tracer.startSpan("doomed").end()
            let result = await processor.forceFlush()
            #expect(!result.succeeded)
            #expect(receiver.received.count == 3)
            let exposition = try Exposition(metrics.render())
            #expect(exposition.value("qlik_mcp_telemetry_export_failures_total", ["reason": "http_5xx"]) == 1)
            #expect(exposition.value("qlik_mcp_telemetry_export_retries_total") == 2)
            _ = await processor.shutdown(timeout: .seconds(1))
        }
    }

    @Test("400 is not retried")
    func badRequestNotRetried() async throws {
        let receiver = TestOTLPReceiver { _ in .status(400, retryAfter: nil) }
        try await receiver.run { (base: String) async throws in
            let (tracer, processor, metrics) = makePipeline(url: base + "/v1/traces")
            tracer.startSpan("rejected").end()
            #expect(await !processor.forceFlush().succeeded)
            #expect(receiver.received.count == 1)
            #expect(try Exposition(metrics.render()).value("qlik_mcp_telemetry_export_failures_total", ["reason": "http_4xx"]) == 1)
            _ = await processor.shutdown(timeout: .seconds(1))
        }
    }

    @Test("a hanging collector: the export timeout is honoured")
    func hangingCollector() async throws {
        let receiver = TestOTLPReceiver { _ in .hang }
        try await receiver.run { (base: String) async throws in
            let (tracer, processor, metrics) = makePipeline(url: base + "/v1/traces", timeout: .milliseconds(500), maxAttempts: 1)
            tracer.startSpan("stuck").end()
            let start = ContinuousClock.now
            let result = await processor.forceFlush()
            let elapsed = ContinuousClock.now - start
            #expect(!result.succeeded)
            #expect(elapsed >= .milliseconds(450))
            #expect(elapsed < .seconds(5))
            #expect(try Exposition(metrics.render()).value("qlik_mcp_telemetry_export_failures_total", ["reason": "timeout"]) == 1)
            _ = await processor.shutdown(timeout: .seconds(1))
        }
    }

    @Test("queue overflow: drops are counted exactly, spans keep ending without blocking")
    func overflow() async throws {
        let receiver = TestOTLPReceiver { _ in .hang }
        try await receiver.run { (base: String) async throws in
            let (tracer, processor, metrics) = makePipeline(
                url: base + "/v1/traces", timeout: .seconds(60), maxAttempts: 1,
                batch: .init(maxQueueSize: 10, maxExportBatchSize: 1, scheduledDelay: .seconds(3600)))
            // The first span is taken by the worker, whose POST then hangs in the collector.
            tracer.startSpan("in flight").end()
            var arrivals = receiver.arrivalStream.makeAsyncIterator()
            #expect(await arrivals.next() == 1)
            // The worker is stuck: 10 spans fit in the queue, the other 15 overflow.
            for index in 0..<25 { tracer.startSpan("queued \(index)").end() }
            #expect(processor.droppedSpans == 15)
            #expect(try Exposition(metrics.render()).value("qlik_mcp_telemetry_spans_dropped_total") == 15)
            // Shutdown with a short deadline aborts the hung export; the 10 queued spans are dropped too.
            let start = ContinuousClock.now
            let result = await processor.shutdown(timeout: .milliseconds(300))
            #expect(ContinuousClock.now - start < .seconds(5))
            #expect(!result.completed)
            #expect(try Exposition(metrics.render()).value("qlik_mcp_telemetry_spans_dropped_total") == 25)
            // After shutdown new spans are dropped, never queued.
            tracer.startSpan("late").end()
            #expect(processor.droppedSpans == 26)
        }
    }

    @Test("spans are exported when the batch size is reached, without a flush")
    func sizeTriggered() async throws {
        let receiver = TestOTLPReceiver()
        try await receiver.run { (base: String) async throws in
            let (tracer, processor, _) = makePipeline(
                url: base + "/v1/traces", batch: .init(maxQueueSize: 100, maxExportBatchSize: 4, scheduledDelay: .seconds(3600)))
            for index in 0..<4 { tracer.startSpan("batch \(index)").end() }
            var arrivals = receiver.arrivalStream.makeAsyncIterator()
            #expect(await arrivals.next() == 1)
            #expect(try receiver.received.first?.decoded().resourceSpans.first?.scopeSpans.first?.spans.count == 4)
            _ = await processor.shutdown(timeout: .seconds(1))
        }
    }

    @Test("spans are exported on schedule, without a flush")
    func scheduled() async throws {
        let receiver = TestOTLPReceiver()
        try await receiver.run { (base: String) async throws in
            let (tracer, processor, _) = makePipeline(
                url: base + "/v1/traces", batch: .init(maxQueueSize: 100, maxExportBatchSize: 50, scheduledDelay: .milliseconds(100)))
            tracer.startSpan("scheduled").end()
            var arrivals = receiver.arrivalStream.makeAsyncIterator()
            #expect(await arrivals.next() == 1)
            _ = await processor.shutdown(timeout: .seconds(1))
        }
    }

    @Test("shutdown flushes what is queued")
    func shutdownFlushes() async throws {
        let receiver = TestOTLPReceiver()
        try await receiver.run { (base: String) async throws in
            let (tracer, processor, _) = makePipeline(url: base + "/v1/traces")
            for index in 0..<3 { tracer.startSpan("final \(index)").end() }
            let result = await processor.shutdown(timeout: .seconds(5))
            #expect(result.succeeded && result.completed)
            let total = try receiver.received.reduce(0) { $0 + (try $1.decoded().resourceSpans.first?.scopeSpans.first?.spans.count ?? 0) }
            #expect(total == 3)
        }
    }

    @Test("https collector: CA, client certificate and key from OTEL_EXPORTER_OTLP_* files")
    func mutualTLS() async throws {
        let pki = TestCertificates.shared
        let receiver = TestOTLPReceiver()
        try await receiver.run(tls: try pki.serverTLS(requireClientCertificate: true)) { (base: String) async throws in
            let env = [
                "OTEL_EXPORTER_OTLP_ENDPOINT": base,
                "OTEL_EXPORTER_OTLP_CERTIFICATE": pki.caCertificate,
                "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE": pki.clientCertificate,
                "OTEL_EXPORTER_OTLP_CLIENT_KEY": pki.clientKey,
            ]
            var configuration = try #require(try OTLPExporterConfiguration.fromEnvironment(env))
            configuration.maxAttempts = 1
            let metrics = TelemetryMetrics()
            let exporter = OTLPHTTPExporter(
                configuration: configuration, resource: TelemetryResource(attributes: [:]),
                metricsFactory: metrics.factory, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
            let processor = BatchSpanProcessor(exporter: exporter, configuration: .init(scheduledDelay: .seconds(3600)), metricsFactory: metrics.factory)
            QlikTracer(sampler: .alwaysOn, processor: processor).startSpan("over tls").end()
            #expect(await processor.forceFlush().succeeded)
            #expect(try receiver.received.first?.decoded().resourceSpans.first?.scopeSpans.first?.spans.first?.name == "over tls")
            _ = await processor.shutdown(timeout: .seconds(1))

            // Without the client certificate the collector refuses the handshake.
            var anonymous = configuration
            anonymous.clientCertificateFile = nil
            anonymous.clientKeyFile = nil
            let refused = OTLPHTTPExporter(
                configuration: anonymous, resource: TelemetryResource(attributes: [:]),
                metricsFactory: metrics.factory, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
            let batch = BatchSpanProcessor(exporter: refused, configuration: .init(scheduledDelay: .seconds(3600)), metricsFactory: metrics.factory)
            QlikTracer(sampler: .alwaysOn, processor: batch).startSpan("refused").end()
            #expect(await !batch.forceFlush().succeeded)
            #expect(receiver.received.count == 1)
            _ = await batch.shutdown(timeout: .seconds(1))
        }
    }

    @Test("exporter configuration from OTEL_EXPORTER_OTLP_* variables")
    func configuration() throws {
        #expect(try OTLPExporterConfiguration.fromEnvironment([:]) == nil)
        let base = try #require(
            try OTLPExporterConfiguration.fromEnvironment([
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/",
                "OTEL_EXPORTER_OTLP_HEADERS": "api-key=abc%20def,x-a=1",
                "OTEL_EXPORTER_OTLP_TRACES_HEADERS": "X-A=2",
                "OTEL_EXPORTER_OTLP_TIMEOUT": "2500",
            ]))
        #expect(base.url == "http://collector:4318/v1/traces")
        #expect(base.headers.map { "\($0)=\($1)" } == ["api-key=abc def", "X-A=2"])
        #expect(base.timeout == .milliseconds(2500))
        let specific = try #require(
            try OTLPExporterConfiguration.fromEnvironment([
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://ignored:4318",
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://collector/custom/path",
            ]))
        #expect(specific.url == "https://collector/custom/path")
        #expect(try OTLPExporterConfiguration.fromEnvironment(["OTEL_EXPORTER_OTLP_ENDPOINT": "http://x", "OTEL_TRACES_EXPORTER": "none"]) == nil)
        for bad in [
            ["OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"],
            ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://x", "OTEL_EXPORTER_OTLP_TIMEOUT": "soon"],
            ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://x", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"],
            ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://x", "OTEL_EXPORTER_OTLP_HEADERS": "novalue"],
            ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://x", "OTEL_EXPORTER_OTLP_CERTIFICATE": "/nonexistent/ca.pem"],
        ] {
            #expect(throws: TelemetryConfigurationError.self) { try OTLPExporterConfiguration.fromEnvironment(bad) }
        }
    }

    @Test("Retry-After parsing", arguments: [("1", 1.0), ("0", 0.0), (" 30 ", 30.0)])
    func retryAfterParsing(value: String, seconds: Double) {
        #expect(RetryPolicy.parseRetryAfter(value, now: Date())?.seconds == seconds)
    }

    @Test("Retry-After as an HTTP date, and backoff stays within its cap")
    func retryAfterDate() {
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let later = "Tue, 14 Nov 2023 22:13:40 GMT"  // now + 20 s
        #expect(RetryPolicy.parseRetryAfter(later, now: now)?.seconds == 20)
        #expect(RetryPolicy.parseRetryAfter("soon", now: now) == nil)
        let policy = RetryPolicy(initialBackoff: .milliseconds(500), maxBackoff: .seconds(4))
        for attempt in 1...10 {
            let delay = policy.delay(afterAttempt: attempt, retryAfter: nil)
            #expect(delay <= .seconds(4) && delay >= .milliseconds(250))
        }
        #expect(policy.delay(afterAttempt: 1, retryAfter: "3600") == .seconds(60))
    }
}
