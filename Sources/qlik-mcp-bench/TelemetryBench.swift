import ArgumentParser
import Foundation
import Logging
import Telemetry
import Tracing

/// `qlik-mcp-bench telemetry`: the instrumentation core's costs.
struct TelemetryBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "telemetry",
        abstract: "Measure log-line cost, span cost, OTLP export throughput and memory under a dead collector."
    )

    @Option(help: "Log lines to time.") var logLines = 200_000
    @Option(help: "Spans to time for start+end.") var spans = 500_000
    @Option(help: "Spans to encode and POST to the loopback receiver.") var exportSpans = 200_000
    @Option(help: "Spans to push through the processor with the collector down (RSS check).") var deadCollectorSpans = 1_000_000
    @Option(help: "Also write the results as JSON to this file.") var json: String?

    func validate() throws {
        for (name, value) in [("--log-lines", logLines), ("--spans", spans), ("--export-spans", exportSpans), ("--dead-collector-spans", deadCollectorSpans)] {
            guard (1...10_000_000).contains(value) else { throw ValidationError("\(name) must be between 1 and 10,000,000") }
        }
    }

    func run() async throws {
        var report = BenchReport(title: "qlik-mcp telemetry benchmark (\(ProcessInfo.processInfo.activeProcessorCount) cores)")
        let log = benchLogLine()
        report.add("log line, clean (ns)", log.clean, "ns/line", target: "≤ 5000", meets: log.clean <= 5000)
        report.add("log line, with PII (ns)", log.pii, "ns/line")
        let span = benchSpan()
        report.add("span start+end (ns)", span, "ns/span", target: "≤ 1000", meets: span <= 1000)
        let encode = benchEncode()
        report.add("OTLP encode", encode.spansPerSecond, "spans/s", target: "≥ 200000", meets: encode.spansPerSecond >= 200_000)
        report.add("bytes per span on the wire", encode.bytesPerSpan, "bytes")
        let shipped = try await benchExport()
        report.add("OTLP encode+POST to loopback", shipped, "spans/s", target: "≥ 200000", meets: shipped >= 200_000)
        let rss = await benchDeadCollector()
        report.add("RSS growth, \(deadCollectorSpans) spans, collector down", rss.growthMiB, "MiB")
        report.add("spans dropped (queue 2048)", Double(rss.dropped), "spans")
        report.printTable()
        if let json { try report.writeJSON(to: json) }
    }

    private func benchLogLine() -> (clean: Double, pii: Double) {
        let sink = NullSink()
        var logger = Logger(label: "bench") {
            StructuredLogHandler(label: $0, level: .info, sink: sink, metadataProvider: TelemetryMetadataProvider.make())
        }
        logger[metadataKey: "component"] = "tools"
        let clean = "tools/call list_measures finished for app sales-2026 in 12.4 ms: 42 measures returned, 3 hidden by the read-only filter, page 1 of 1, cursor none, cache miss"
        let pii = "tools/call list_measures by jane.doe@example.com from 10.1.2.3 with Bearer abcdefghijklmnop, card 4111 1111 1111 1111, phone +44 20 7946 0958 done"
        func time(_ message: String) -> Double {
            let metadata: Logger.Metadata = [
                "mcp.session.id": "7f3c2a", "gen_ai.tool.name": "list_measures", "qlik_mcp.duration_ms": .stringConvertible(12.4),
                "outcome": "ok", "app_id": "sales-2026", "rows": "42",
            ]
            for _ in 0..<1000 { logger.info("\(message)", metadata: metadata) }
            let start = monotonicNanos()
            for _ in 0..<logLines { logger.info("\(message)", metadata: metadata) }
            return Double(monotonicNanos() - start) / Double(logLines)
        }
        return (time(clean), time(pii))
    }

    private func benchSpan() -> Double {
        let processor = BatchSpanProcessor(
            exporter: nil, configuration: .init(maxQueueSize: 2048),
            ringBuffer: nil, metricsFactory: TelemetryMetrics().factory)
        let tracer = QlikTracer(sampler: .alwaysOn, processor: processor)
        for _ in 0..<10_000 { tracer.startSpan("warmup", context: .topLevel).end() }
        let start = monotonicNanos()
        for _ in 0..<spans {
            let span = tracer.startSpan("tools/call list_measures", context: .topLevel, ofKind: .server)
            span.end()
        }
        return Double(monotonicNanos() - start) / Double(spans)
    }

    private func benchEncode() -> (spansPerSecond: Double, bytesPerSpan: Double) {
        let batch = Self.sampleBatch(512)
        let resource = TelemetryResource(attributes: ["service.name": "qlik-mcp", "service.version": QlikMCPVersion.current])
        let rounds = max(1, exportSpans / batch.count)
        var bytes = 0
        let start = monotonicNanos()
        for _ in 0..<rounds {
            bytes += (try? OTLPEncoding.encodeRequest(batch, resource: resource).count) ?? 0
        }
        let seconds = Double(monotonicNanos() - start) / 1e9
        let total = Double(rounds * batch.count)
        return (total / seconds, Double(bytes) / total)
    }

    private func benchExport() async throws -> Double {
        let sink = LoopbackOTLPSink()
        let exportSpans = self.exportSpans
        return try await sink.run { port in
            let exporter = OTLPHTTPExporter(
                configuration: OTLPExporterConfiguration(url: "http://127.0.0.1:\(port)/v1/traces", maxAttempts: 1),
                resource: TelemetryResource(attributes: ["service.name": "qlik-mcp"]),
                metricsFactory: TelemetryMetrics().factory)
            let batch = Self.sampleBatch(512)
            let rounds = max(1, exportSpans / batch.count)
            return await withCheckedContinuation { continuation in
                // The exporter blocks in libcurl: run it on its own thread, as the processor does.
                Thread {
                    let start = monotonicNanos()
                    var failures = 0
                    for _ in 0..<rounds {
                        if exporter.export(batch, control: ExportControl(deadline: .now + .seconds(10))) != .success { failures += 1 }
                    }
                    let seconds = Double(monotonicNanos() - start) / 1e9
                    continuation.resume(returning: failures == 0 ? Double(rounds * batch.count) / seconds : 0)
                }.start()
            }
        }
    }

    private func benchDeadCollector() async -> (growthMiB: Double, dropped: Int) {
        let metrics = TelemetryMetrics()
        let exporter = OTLPHTTPExporter(
            configuration: OTLPExporterConfiguration(url: "http://127.0.0.1:9/v1/traces", timeout: .milliseconds(200), maxAttempts: 1),
            resource: TelemetryResource(attributes: ["service.name": "qlik-mcp"]),
            metricsFactory: metrics.factory,
            logger: Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() })
        let processor = BatchSpanProcessor(
            exporter: exporter, configuration: .init(maxQueueSize: 2048, scheduledDelay: .milliseconds(100)),
            metricsFactory: metrics.factory)
        let tracer = QlikTracer(sampler: .alwaysOn, processor: processor)
        let before = ProcessSample.read()?.residentBytes ?? 0
        for index in 0..<deadCollectorSpans {
            let span = tracer.startSpan("dead collector", context: .topLevel)
            span.attributes["index"] = index
            span.end()
        }
        let after = ProcessSample.read()?.residentBytes ?? 0
        _ = await processor.shutdown(timeout: .seconds(2))
        return (Double(after - before) / 1_048_576, processor.droppedSpans)
    }

    static func sampleBatch(_ count: Int) -> [SpanRecord] {
        let processor = InMemorySpanProcessor()
        let tracer = QlikTracer(sampler: .alwaysOn, processor: processor)
        for index in 0..<count {
            tracer.withSpan("tools/call query_data", context: .topLevel, ofKind: .server) { span in
                span.attributes["mcp.method.name"] = "tools/call"
                span.attributes["gen_ai.tool.name"] = "query_data"
                span.attributes["mcp.session.id"] = "7f3c2a9e"
                span.attributes["jsonrpc.request.id"] = "\(index)"
                span.attributes["qlik.app.id"] = "sales-2026"
            }
        }
        return processor.spans
    }
}

/// Discards log lines (the benchmark measures formatting and scrubbing, not the terminal).
private struct NullSink: LogSink {
    func write(_ line: [UInt8]) {}
}
