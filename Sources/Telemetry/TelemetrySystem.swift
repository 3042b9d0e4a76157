import Foundation
import Instrumentation
import Logging
import Metrics
import Tracing

/// The instrumentation core assembled: metrics registry, PII scrubber, JSON log handlers, tracer,
/// batch span processor, OTLP exporter and the debug span ring buffer.
///
/// Libraries never touch this type: they log, count and trace through swift-log, swift-metrics
/// and swift-distributed-tracing. Only the CLI calls `bootstrapGlobalSystems()`, once.
public final class TelemetrySystem: Sendable {
    public let configuration: TelemetryConfiguration
    public let metrics: TelemetryMetrics
    public let scrubber: PIIScrubber
    public let tracer: QlikTracer
    public let processor: BatchSpanProcessor?
    public let exporter: OTLPHTTPExporter?
    /// Log records on their way to the OTLP collector (`OTEL_LOGS_EXPORTER=otlp`).
    public let logExport: BatchExportQueue<LogRecordData>?
    public let ringBuffer: SpanRingBuffer
    private let sink: any LogSink

    public init(configuration: TelemetryConfiguration, sink: any LogSink = BatchingStandardErrorSink()) throws {
        self.configuration = configuration
        self.sink = sink
        let metrics = TelemetryMetrics(version: configuration.resource.serviceVersion)
        self.metrics = metrics
        let scrubber = try configuration.makeScrubber()
        self.scrubber = scrubber
        self.ringBuffer = SpanRingBuffer(capacity: configuration.traceBufferCapacity)
        let telemetryLogger = Logger(label: "qlik-mcp.telemetry") { label in
            StructuredLogHandler(
                label: label, level: configuration.logLevel, format: configuration.logFormat, resource: configuration.resource,
                sink: sink, scrubber: scrubber, metricsFactory: metrics.factory)
        }
        self.exporter = configuration.exporter.map {
            OTLPHTTPExporter(configuration: $0, resource: configuration.resource, metricsFactory: metrics.factory, logger: telemetryLogger)
        }
        // The log exporter reports its own failures through `telemetryLogger`, which writes to the
        // sink only: a failing export never produces records for itself.
        self.logExport = configuration.logExporter.map { logs in
            let exporter = OTLPLogExporter(configuration: logs, resource: configuration.resource, metricsFactory: metrics.factory, logger: telemetryLogger)
            return BatchExportQueue(
                name: "qlik-mcp-log-export", configuration: configuration.logBatch, metrics: .logs,
                metricsFactory: metrics.factory
            ) { batch, control in exporter.export(batch, control: control) }
        }
        if configuration.tracingDisabled {
            self.processor = nil
        } else {
            self.processor = BatchSpanProcessor(
                exporter: exporter, configuration: configuration.batch, scrubber: scrubber,
                ringBuffer: ringBuffer, metricsFactory: metrics.factory)
        }
        self.tracer = QlikTracer(sampler: configuration.sampler, processor: processor)
    }

    /// A log handler for `label` with this system's level, format, resource, scrubber, sink and metrics.
    public func makeLogHandler(label: String) -> StructuredLogHandler {
        StructuredLogHandler(
            label: label, level: configuration.logLevel, format: configuration.logFormat, resource: configuration.resource,
            sink: sink, scrubber: scrubber, metricsFactory: metrics.factory, export: logExport)
    }

    /// Installs this system as the process-wide swift-log, swift-metrics and tracing backend.
    /// Call once, from the executable, before anything logs.
    public func bootstrapGlobalSystems() {
        LoggingSystem.bootstrap(
            { [self] label, _ in makeLogHandler(label: label) },
            metadataProvider: TelemetryMetadataProvider.make())
        MetricsSystem.bootstrap(metrics.factory)
        InstrumentationSystem.bootstrap(tracer)
    }

    /// Exports queued spans within `timeout` and stops the export worker.
    @discardableResult
    /// Exports queued spans and log records within `timeout` (each), stops the export workers and
    /// writes the log lines still buffered.
    public func shutdown(timeout: Duration = .seconds(5)) async -> BatchSpanProcessor.FlushResult {
        defer { sink.flush() }
        let logs = await logExport?.shutdown(timeout: timeout) ?? BatchFlushResult(succeeded: true, completed: true)
        guard let processor else { return logs }
        let spans = await processor.shutdown(timeout: timeout)
        return BatchFlushResult(succeeded: spans.succeeded && logs.succeeded, completed: spans.completed && logs.completed)
    }

    /// Writes log lines still waiting in the sink's buffer.
    public func flushLogs() {
        sink.flush()
    }
}
