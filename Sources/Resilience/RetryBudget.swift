import Synchronization

/// Caps retries at a share of recent calls (per dependency), so that during an outage retries
/// cannot multiply the load on a struggling engine: over a sliding window, at most
/// `minimumPerSecond × window + ratio × calls` retries are allowed. Every call deposits, every
/// retry withdraws; a retry refused by the budget fails the call with its last error.
public final class RetryBudget: Sendable {
    public struct Configuration: Sendable, Equatable {
        /// Retries allowed per call made (0.2: at most 20 % extra load).
        public var ratio = 0.2
        /// Retries always allowed per second (so rare calls can still retry).
        public var minimumPerSecond = 1.0
        public var window: Duration = .seconds(10)

        public init(ratio: Double = 0.2, minimumPerSecond: Double = 1.0, window: Duration = .seconds(10)) {
            self.ratio = ratio
            self.minimumPerSecond = minimumPerSecond
            self.window = window
        }
    }

    private struct Bucket {
        var second: Int64 = .min
        var calls = 0
        var retries = 0
    }

    public let configuration: Configuration
    private let buckets: Mutex<[Bucket]>
    private let origin = ContinuousClock.now

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        buckets = Mutex(Array(repeating: Bucket(), count: max(1, Int(configuration.window.components.seconds))))
    }

    private func second(_ now: ContinuousClock.Instant) -> Int64 { (now - origin).components.seconds }

    private func withBucket(_ now: ContinuousClock.Instant, _ change: (inout Bucket) -> Void) {
        let second = second(now)
        buckets.withLock { buckets in
            let index = Int(second % Int64(buckets.count))
            if buckets[index].second != second { buckets[index] = Bucket(second: second) }
            change(&buckets[index])
        }
    }

    /// A first attempt was made.
    public func recordCall(now: ContinuousClock.Instant = .now) {
        withBucket(now) { $0.calls += 1 }
    }

    /// Takes one retry from the budget; false when it is spent.
    public func tryRetry(now: ContinuousClock.Instant = .now) -> Bool {
        let current = second(now)
        return buckets.withLock { buckets in
            let oldest = current - Int64(buckets.count) + 1
            var calls = 0
            var retries = 0
            for bucket in buckets where bucket.second >= oldest && bucket.second <= current {
                calls += bucket.calls
                retries += bucket.retries
            }
            let allowed = configuration.minimumPerSecond * Double(buckets.count) + configuration.ratio * Double(calls)
            guard Double(retries) + 1 <= allowed else { return false }
            let index = Int(current % Int64(buckets.count))
            if buckets[index].second != current { buckets[index] = Bucket(second: current) }
            buckets[index].retries += 1
            return true
        }
    }
}
