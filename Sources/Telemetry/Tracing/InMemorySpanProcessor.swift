import Synchronization

/// Keeps finished spans in memory, unscrubbed and unexported, up to `limit` (older ones are
/// dropped). For tests and benchmarks that inspect spans directly; production uses
/// `BatchSpanProcessor`.
public final class InMemorySpanProcessor: SpanProcessor {
    private let storage = Mutex<[SpanRecord]>([])
    public let limit: Int

    public init(limit: Int = 100_000) {
        self.limit = max(1, limit)
    }

    /// The spans finished so far, oldest first.
    public var spans: [SpanRecord] { storage.withLock { $0 } }

    public func onEnd(_ span: SpanRecord) {
        storage.withLock { spans in
            if spans.count >= limit { spans.removeFirst(spans.count - limit + 1) }
            spans.append(span)
        }
    }

    public func requestFlush() {}
}
