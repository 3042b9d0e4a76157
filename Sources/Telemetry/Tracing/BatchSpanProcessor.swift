import CoreMetrics
import Foundation
import Metrics

/// The span processor of the tracer: each finished span is scrubbed (PII) and copied into the
/// debug ring buffer, then batched on a `BatchExportQueue` and handed to the span exporter.
/// `onEnd` never blocks: when the queue is full the span is dropped and
/// `qlik_mcp_telemetry_spans_dropped_total` is incremented.
public final class BatchSpanProcessor: SpanProcessor, Sendable {
    public typealias Configuration = BatchExportConfiguration
    public typealias FlushResult = BatchFlushResult

    private let queue: BatchExportQueue<SpanRecord>

    public var configuration: Configuration { queue.configuration }

    /// - Parameters:
    ///   - exporter: where batches go; nil keeps spans only in the ring buffer.
    ///   - scrubber: applied to span names, attributes, events and status messages before export.
    ///   - ringBuffer: receives every processed batch (for `/debug/traces`).
    ///   - metricsFactory: where the self-metrics are registered.
    public init(
        exporter: (any SpanExporter)?,
        configuration: Configuration = Configuration(),
        scrubber: PIIScrubber = .standard,
        ringBuffer: SpanRingBuffer? = nil,
        metricsFactory: any MetricsFactory
    ) {
        let scrubber = scrubber.memoized()
        queue = BatchExportQueue(name: "qlik-mcp-span-export", configuration: configuration, metrics: .spans, metricsFactory: metricsFactory) { batch, control in
            let clean = batch.map { $0.scrubbed(with: scrubber) }
            ringBuffer?.append(contentsOf: clean)
            guard let exporter else { return .success }
            return exporter.export(clean, control: control)
        }
    }

    /// Spans dropped because the queue was full or the processor was shut down.
    public var droppedSpans: Int { queue.dropped }

    public func onEnd(_ span: SpanRecord) { queue.enqueue(span) }

    public func requestFlush() { queue.requestFlush() }

    /// Exports everything queued now and returns when it has been handed to the exporter.
    public func forceFlush() async -> FlushResult { await queue.forceFlush() }

    /// Stops accepting spans, exports what is queued within `timeout`, and stops the worker.
    public func shutdown(timeout: Duration) async -> FlushResult { await queue.shutdown(timeout: timeout) }
}
