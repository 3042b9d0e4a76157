import CoreMetrics
import Foundation
import Metrics

/// Tunables of a batch export queue; defaults and environment names follow the OpenTelemetry SDK
/// (`OTEL_BSP_*` for spans, `OTEL_BLRP_*` for log records).
public struct BatchExportConfiguration: Sendable {
    public var maxQueueSize = 2048
    public var maxExportBatchSize = 512
    public var scheduledDelay: Duration = .seconds(5)
    public var exportTimeout: Duration = .seconds(30)

    public init(
        maxQueueSize: Int = 2048, maxExportBatchSize: Int = 512,
        scheduledDelay: Duration = .seconds(5), exportTimeout: Duration = .seconds(30)
    ) {
        self.maxQueueSize = max(1, maxQueueSize)
        self.maxExportBatchSize = max(1, min(maxExportBatchSize, self.maxQueueSize))
        self.scheduledDelay = scheduledDelay
        self.exportTimeout = exportTimeout
    }
}

/// What a flush achieved.
public struct BatchFlushResult: Sendable, Equatable {
    /// True when every batch exported while waiting succeeded (or there was nothing to export).
    public var succeeded: Bool
    /// False when the deadline passed (shutdown) before everything was handed to the exporter.
    public var completed: Bool

    public init(succeeded: Bool, completed: Bool) {
        self.succeeded = succeeded
        self.completed = completed
    }
}

/// The metric names of one queue: items dropped, items exported, queue length.
public struct BatchExportMetricNames: Sendable {
    public let dropped: String
    public let exported: String
    public let queueLength: String

    public static let spans = BatchExportMetricNames(
        dropped: "qlik_mcp_telemetry_spans_dropped_total", exported: "qlik_mcp_telemetry_spans_exported_total",
        queueLength: "qlik_mcp_telemetry_span_queue_length")
    public static let logs = BatchExportMetricNames(
        dropped: "qlik_mcp_telemetry_log_records_dropped_total", exported: "qlik_mcp_telemetry_log_records_exported_total",
        queueLength: "qlik_mcp_telemetry_log_record_queue_length")
}

/// Batches items (finished spans, log records) on a bounded queue and hands them to `process`
/// from one dedicated worker thread.
///
/// - `enqueue` never blocks: when the queue is full the item is dropped and counted.
/// - Export is triggered by size (`maxExportBatchSize` queued), by schedule (`scheduledDelay`), by
///   `forceFlush()`, and at `shutdown(timeout:)`, which exports what it can before its deadline.
///
/// The worker is an OS thread rather than a task because exporters block in libcurl; keeping
/// that off the cooperative pool means a slow collector cannot starve request handling.
public final class BatchExportQueue<Item: Sendable>: @unchecked Sendable {
    public let configuration: BatchExportConfiguration
    private let process: @Sendable ([Item], ExportControl) -> ExportResult
    private let droppedCounter: Counter
    private let exportedCounter: Counter
    private let queueGauge: Gauge

    private let condition = NSCondition()
    // All below guarded by `condition`.
    private var queue: [Item] = []
    private var enqueuedTotal = 0
    private var processedTotal = 0
    private var waiters: [Waiter] = []
    private var flushRequested = false
    private var shuttingDown = false
    private var finished = false
    private var shutdownDeadline: ContinuousClock.Instant?
    private var currentControl: ExportControl?
    private var finishWaiters: [CheckedContinuation<BatchFlushResult, Never>] = []
    private var droppedTotal = 0

    private struct Waiter {
        let target: Int
        var failed: Bool
        let continuation: CheckedContinuation<BatchFlushResult, Never>
    }

    /// - Parameters:
    ///   - name: the worker thread's name.
    ///   - process: exports one batch; called on the worker thread only, one batch at a time.
    public init(
        name: String, configuration: BatchExportConfiguration, metrics: BatchExportMetricNames, metricsFactory: any MetricsFactory,
        process: @escaping @Sendable ([Item], ExportControl) -> ExportResult
    ) {
        self.configuration = configuration
        self.process = process
        self.droppedCounter = Counter(label: metrics.dropped, factory: metricsFactory)
        self.exportedCounter = Counter(label: metrics.exported, factory: metricsFactory)
        self.queueGauge = Gauge(label: metrics.queueLength, factory: metricsFactory)
        let thread = Thread { [self] in self.run() }
        thread.name = name
        thread.start()
    }

    /// Items dropped because the queue was full or the queue was shut down.
    public var dropped: Int {
        condition.lock()
        defer { condition.unlock() }
        return droppedTotal
    }

    public func enqueue(_ item: Item) {
        condition.lock()
        guard !shuttingDown, queue.count < configuration.maxQueueSize else {
            droppedTotal += 1
            condition.unlock()
            droppedCounter.increment()
            return
        }
        queue.append(item)
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
    public func forceFlush() async -> BatchFlushResult {
        await withCheckedContinuation { continuation in
            condition.lock()
            if finished {
                condition.unlock()
                continuation.resume(returning: BatchFlushResult(succeeded: queue.isEmpty, completed: queue.isEmpty))
                return
            }
            waiters.append(Waiter(target: enqueuedTotal, failed: false, continuation: continuation))
            flushRequested = true
            condition.signal()
            condition.unlock()
        }
    }

    /// Stops accepting items, exports what is queued within `timeout`, and stops the worker.
    /// Items still queued at the deadline are dropped and counted.
    public func shutdown(timeout: Duration) async -> BatchFlushResult {
        await withCheckedContinuation { continuation in
            condition.lock()
            if finished {
                condition.unlock()
                continuation.resume(returning: BatchFlushResult(succeeded: true, completed: true))
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
                && ContinuousClock.now < nextScheduled
            {
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

            let result = process(batch, control)
            if result == .success { exportedCounter.increment(by: batch.count) }

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
            waiter.continuation.resume(returning: BatchFlushResult(succeeded: false, completed: false))
        }
        for finisher in finishers {
            finisher.resume(returning: BatchFlushResult(succeeded: allSucceeded && leftover == 0, completed: leftover == 0))
        }
    }

    /// Resumes flush waiters whose items have all been processed. Caller holds the lock.
    private func resolveWaiters() {
        var remaining: [Waiter] = []
        for waiter in waiters {
            if processedTotal >= waiter.target {
                waiter.continuation.resume(returning: BatchFlushResult(succeeded: !waiter.failed, completed: true))
            } else {
                remaining.append(waiter)
            }
        }
        waiters = remaining
    }
}
