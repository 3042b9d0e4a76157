import Foundation
import Metrics
import Synchronization

/// Field names per app, cached for a short time: nearly every data tool checks a field name, and
/// asking the engine (`GetTablesAndKeys`) each time costs a round trip plus the engine's work.
/// Bounded (least recently stored evicted), expires after `ttl`, dropped on reload.
public final class FieldNameCache: Sendable {
    private struct Entry {
        let names: [String]
        let lookup: Set<String>
        let expires: ContinuousClock.Instant
    }

    public let ttl: Duration
    public let capacity: Int
    private let entries = Mutex<[String: Entry]>([:])
    /// `qlik_mcp_cache_requests_total{cache="field_names",result}`.
    private let hits: Counter
    private let misses: Counter

    public init(ttl: Duration = .seconds(30), capacity: Int = 256) {
        self.ttl = ttl
        self.capacity = capacity
        hits = Counter(label: "qlik_mcp_cache_requests_total", dimensions: [("cache", "field_names"), ("result", "hit")])
        misses = Counter(label: "qlik_mcp_cache_requests_total", dimensions: [("cache", "field_names"), ("result", "miss")])
    }

    /// Cached names (sorted) of `appID`, or nil when absent or expired.
    func names(_ appID: String) -> (names: [String], lookup: Set<String>)? {
        let found = entries.withLock { entries -> (names: [String], lookup: Set<String>)? in
            guard let entry = entries[appID] else { return nil }
            guard entry.expires > .now else {
                entries[appID] = nil
                return nil
            }
            return (entry.names, entry.lookup)
        }
        (found == nil ? misses : hits).increment()
        return found
    }

    func store(_ names: [String], for appID: String) {
        entries.withLock { entries in
            if entries.count >= capacity, entries[appID] == nil,
                let oldest = entries.min(by: { $0.value.expires < $1.value.expires })?.key
            {
                entries[oldest] = nil
            }
            entries[appID] = Entry(names: names, lookup: Set(names), expires: .now + ttl)
        }
    }

    /// Forgets an app (its data model may have changed, e.g. after a reload).
    public func invalidate(_ appID: String) {
        entries.withLock { $0[appID] = nil }
    }
}
