import Foundation

/// Ships batches of finished spans somewhere. Called only from the batch processor's worker
/// thread, one batch at a time, so implementations may block (e.g. a libcurl transfer) — they
/// must give up when `control` says the deadline has passed.
public protocol SpanExporter: Sendable {
    func export(_ spans: [SpanRecord], control: ExportControl) -> ExportResult
}

/// The outcome of exporting one batch.
public enum ExportResult: Sendable, Equatable {
    case success
    /// `reason` is a bounded label value (`connection`, `timeout`, `http_4xx`, …).
    case failure(reason: String)
}

/// Deadline and interruption for one export: `BatchSpanProcessor.shutdown` can pull the deadline
/// in, waking an exporter that sleeps between retries.
public final class ExportControl: @unchecked Sendable {
    private let condition = NSCondition()
    private var deadlineValue: ContinuousClock.Instant

    public init(deadline: ContinuousClock.Instant) {
        self.deadlineValue = deadline
    }

    public var deadline: ContinuousClock.Instant {
        condition.lock()
        defer { condition.unlock() }
        return deadlineValue
    }

    /// Time left before the deadline (zero when passed).
    public var remaining: Duration {
        max(.zero, deadline - .now)
    }

    /// Moves the deadline earlier (never later) and wakes a sleeping exporter.
    public func tighten(to deadline: ContinuousClock.Instant) {
        condition.lock()
        if deadline < deadlineValue { deadlineValue = deadline }
        condition.broadcast()
        condition.unlock()
    }

    /// Sleeps for `duration` unless the deadline comes first. Returns false when the sleep would
    /// pass the deadline (the caller should stop retrying).
    public func sleep(for duration: Duration) -> Bool {
        let wakeAt = ContinuousClock.now + duration
        condition.lock()
        defer { condition.unlock() }
        while ContinuousClock.now < wakeAt {
            if wakeAt > deadlineValue { return false }
            _ = condition.wait(until: Date(timeIntervalSinceNow: (wakeAt - .now).seconds))
        }
        return true
    }
}

extension Duration {
    /// The duration in seconds as a `Double`.
    public var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) / 1e18
    }
}
