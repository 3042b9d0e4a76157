import Metrics
import Synchronization

/// Counters created once per label set and reused: metric handles are looked up on hot paths,
/// and creating one through the factory each time costs a lock and an allocation in the registry.
public final class CounterSet: Sendable {
    private let counters = Mutex<[String: Counter]>([:])

    public init() {}

    /// The counter `label` with `dimensions` (created on first use).
    public func counter(_ label: String, _ dimensions: [(String, String)]) -> Counter {
        let key = label + dimensions.map { "|" + $0.0 + "=" + $0.1 }.joined()
        return counters.withLock { counters in
            if let cached = counters[key] { return cached }
            let created = Counter(label: label, dimensions: dimensions)
            counters[key] = created
            return created
        }
    }
}
