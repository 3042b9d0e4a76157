import Synchronization

/// A fixed-capacity buffer of the most recent finished spans (already scrubbed), for the
/// embedded `/debug/traces` page. Appending overwrites the oldest entry; memory is bounded by
/// `capacity` spans.
public final class SpanRingBuffer: Sendable {
    public let capacity: Int
    private let storage: Mutex<Storage>

    private struct Storage {
        var items: [SpanRecord?]
        var next = 0
        var count = 0
    }

    public init(capacity: Int = 1024) {
        precondition(capacity > 0, "ring buffer capacity must be positive")
        self.capacity = capacity
        self.storage = Mutex(Storage(items: Array(repeating: nil, count: capacity)))
    }

    public func append(contentsOf spans: [SpanRecord]) {
        storage.withLock { storage in
            for span in spans {
                storage.items[storage.next] = span
                storage.next = (storage.next + 1) % capacity
                storage.count = min(storage.count + 1, capacity)
            }
        }
    }

    /// The buffered spans, oldest first.
    public func snapshot() -> [SpanRecord] {
        storage.withLock { storage in
            let start = (storage.next - storage.count + capacity) % capacity
            return (0..<storage.count).compactMap { storage.items[(start + $0) % capacity] }
        }
    }

    public var count: Int { storage.withLock { $0.count } }
}
