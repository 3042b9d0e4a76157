import JSONCore
import Synchronization

/// Counts the QIX requests the demo engine answered, by method (served as JSON at `GET /stats`),
/// so tests can tell how many engine calls a client really made — a cache that answers must
/// leave these counts unchanged.
public final class RequestCounter: Sendable {
    private let counts = Mutex<[String: Int]>([:])

    public init() {}

    func record(_ method: String) {
        counts.withLock { $0[method, default: 0] += 1 }
    }

    /// Requests per method so far.
    public var snapshot: [String: Int] { counts.withLock { $0 } }

    /// `{"total": n, "methods": {"GetLayout": n, …}}`.
    var json: JSONValue {
        let counts = snapshot
        return ["total": .number(Double(counts.values.reduce(0, +))), "methods": .object(counts.mapValues { .number(Double($0)) })]
    }
}
