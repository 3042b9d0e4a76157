import CoreMetrics
import Foundation
import Metrics

/// Batches finished spans on a bounded queue and exports them from one dedicated worker thread.
///
/// - `onEnd` never blocks: when the queue is full the span is dropped and
///   `qlik_mcp_telemetry_spans_dropped_total` is incremented.
/// - Export is triggered by size (`maxExportBatchSize` queued), by schedule (`scheduledDelay`), by
///   `forceFlush()`, and at `shutdown(timeout:)`, which exports what it can before its deadline.
/// - Each exported batch is scrubbed (PII) and copied into the debug ring buffer first.
///
/// The worker is an OS thread rather than a task because the exporter blocks in libcurl; keeping
/// that off the cooperative pool means a slow collector cannot starve request handling.
public final class BatchSpanProcessor: SpanProcessor, @unchecked Sendable {
    /// Tunables; defaults and environment names follow the OpenTelemetry SDK (`OTEL_BSP_*`).
    public struct Configuration: Sendable {
        public var maxQueueSize = 2048
        public var maxExportBatchSize = 512
        public var scheduledDelay: Duration = .seconds(5)
        public var exportTimeout: Duration = .seconds(30)

        public init(maxQueueSize: Int = 2048, maxExportBatchSize: Int = 512,
                    scheduledDelay: Duration = .seconds(5), exportTimeout: Duration = .seconds(30)) {
            self.maxQueueSize = max(1, maxQueueSize)
            self.maxExportBatchSize = max(1, min(maxExportBatchSize, self.maxQueueSize))
            self.scheduledDelay = scheduledDelay
            self.exportTimeout = exportTimeout
        }
    }

    /// What a flush achieved.
    public struct FlushResult: Sendable, Equatable {
        /// True when every batch exported while waiting succeeded (or there was nothing to export).
        public var succeeded: Bool
        /// False when the deadline passed (shutdown) before everything was handed to the exporter.
        public var completed: Bool
    }

    public let configuration: Configuration
    private let exporter: (any SpanExporter)?
    private let scrubber: PIIScrubber
    private let ringBuffer: SpanRingBuffer?
    private let droppedCounter: Counter
    private let exportedCounter: Counter
    private let queueGauge: Gauge

    private let condition = NSCondition()
    // All below guarded by `condition`.
    private var queue: [SpanRecord] = []
    private var enqueuedTotal = 0
    private var processedTotal = 0
    private var waiters: [Waiter] = []
    private var flushRequested = false
    private var shuttingDown = false
    private var finished = false
    private var shutdownDeadline: ContinuousClock.Instant?
    private var currentControl: ExportControl?
    private var finishWaiters: [CheckedContinuation<FlushResult, Never>] = []
    private var droppedTotal = 0

    private struct Waiter {
        let target: Int
        var failed: Bool
        let continuation: CheckedContinuation<FlushResult, Never>
    }

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
        self.exporter = exporter
        self.configuration = configuration
        self.scrubber = scrubber
        self.ringBuffer = ringBuffer
        self.droppedCounter = Counter(label: "qlik_mcp_telemetry_spans_dropped_total", factory: metricsFactory)
        self.exportedCounter = Counter(label: "qlik_mcp_telemetry_spans_exported_total", factory: metricsFactory)
        self.queueGauge = Gauge(label: "qlik_mcp_telemetry_span_queue_length", factory: metricsFactory)
        let thread = Thread { [self] in self.run() }
        thread.name = "qlik-mcp-span-export"
        thread.start()
    }

    /// Spans dropped because the queue was full or the processor was shut down.
    public var droppedSpans: Int {
        condition.lock()
        defer { condition.unlock() }
        return droppedTotal
    }

    public func onEnd(_ span: SpanRecord) {
        condition.lock()
        guard !shuttingDown, queue.count < configuration.maxQueueSize else {
            droppedTotal += 1
            condition.unlock()
            droppedCounter.increment()
            return
        }
        queue.append(span)
        enqueuedTotal += 1
        let wake = queue.count >= configuration.maxExportBatchSize
        if wake { condition.signal() }
        condition.unlock()
    }

    public func requestFlush() {
        condition.lock()
        flushRequested = true
        condition.signal()
        condition.unlock()
    }

    /// Exports everything queued now and returns when it has been handed to the exporter.
    public func forceFlush() async -> FlushResult {
        await withCheckedContinuation { continuation in
            condition.lock()
            if finished {
                condition.unlock()
                continuation.resume(returning: FlushResult(succeeded: queue.isEmpty, completed: queue.isEmpty))
                return
            }
            waiters.append(Waiter(target: enqueuedTotal, failed: false, continuation: continuation))
            flushRequested = true
            condition.signal()
            condition.unlock()
        }
    }

    /// Stops accepting spans, exports what is queued within `timeout`, and stops the worker.
    /// Spans still queued at the deadline are dropped and counted.
    public func shutdown(timeout: Duration) async -> FlushResult {
        await withCheckedContinuation { continuation in
            condition.lock()
            if finished {
                condition.unlock()
                continuation.resume(returning: FlushResult(succeeded: true, completed: true))
                return
            }
            let deadline = ContinuousClock.now + timeout
            shuttingDown = true
            shutdownDeadline = deadline
            finishWaiters.append(continuation)
            currentControl?.tighten(to: deadline)
            condition.signal()
            condition.unlock()
        }
    }

    // MARK: worker

    private func run() {
        var nextScheduled = ContinuousClock.now + configuration.scheduledDelay
        var allSucceeded = true
        condition.lock()
        while true {
            while !shuttingDown && !flushRequested && queue.count < configuration.maxExportBatchSize
                    && ContinuousClock.now < nextScheduled {
                _ = condition.wait(until: Date(timeIntervalSinceNow: (nextScheduled - .now).seconds))
            }
            if shuttingDown, let deadline = shutdownDeadline, ContinuousClock.now >= deadline {
                break
            }
            if queue.isEmpty {
                flushRequested = false
                resolveWaiters()
                if shuttingDown { break }
                nextScheduled = ContinuousClock.now + configuration.scheduledDelay
                continue
            }
            let batch = Array(queue.prefix(configuration.maxExportBatchSize))
            queue.removeFirst(batch.count)
            queueGauge.record(queue.count)
            var deadline = ContinuousClock.now + configuration.exportTimeout
            if let shutdownDeadline, shutdownDeadline < deadline { deadline = shutdownDeadline }
            let control = ExportControl(deadline: deadline)
            currentControl = control
            condition.unlock()

            let result = process(batch, control: control)

            condition.lock()
            currentControl = nil
            processedTotal += batch.count
            if result != .success {
                allSucceeded = false
                for index in waiters.indices { waiters[index].failed = true }
            }
            resolveWaiters()
            if queue.count < configuration.maxExportBatchSize && !shuttingDown {
                nextScheduled = ContinuousClock.now + configuration.scheduledDelay
            }
        }
        // Shutdown: whatever is still queued missed the deadline.
        let leftover = queue.count
        droppedTotal += leftover
        queue.removeAll()
        finished = true
        let pending = waiters
        waiters.removeAll()
        let finishers = finishWaiters
        finishWaiters.removeAll()
        condition.unlock()
        if leftover > 0 { droppedCounter.increment(by: leftover) }
        for waiter in pending {
            waiter.continuation.resume(returning: FlushResult(succeeded: false, completed: false))
        }
        for finisher in finishers {
            finisher.resume(returning: FlushResult(succeeded: allSucceeded && leftover == 0, completed: leftover == 0))
        }
    }

    /// Resumes flush waiters whose spans have all been processed. Caller holds the lock.
    private func resolveWaiters() {
        var remaining: [Waiter] = []
        for waiter in waiters {
            if processedTotal >= waiter.target {
                waiter.continuation.resume(returning: FlushResult(succeeded: !waiter.failed, completed: true))
            } else {
                remaining.append(waiter)
            }
        }
        waiters = remaining
    }

    private func process(_ batch: [SpanRecord], control: ExportControl) -> ExportResult {
        let clean = batch.map { $0.scrubbed(with: scrubber) }
        ringBuffer?.append(contentsOf: clean)
        guard let exporter else { return .success }
        let result = exporter.export(clean, control: control)
        if result == .success { exportedCounter.increment(by: clean.count) }
        return result
    }
}
