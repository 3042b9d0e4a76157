import Foundation
import Metrics
import Synchronization

/// Field names per app, cached for a short time: nearly every data tool checks a field name, and
/// asking the engine (`GetTablesAndKeys`) each time costs a round trip plus the engine's work.
/// Bounded (least recently stored evicted), expires after `ttl`, dropped on reload. Keyed by the
/// engine identity and the app: with section access, users may see different fields.
public final class FieldNameCache: Sendable {
    private struct Entry {
        let names: [String]
        let lookup: Set<String>
        let app: String
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
        hits = Counter(label: "qlik_mcp_cache_requests_total", dimensions: [("cache", "field_names"), ("tier", "l1"), ("result", "hit")])
        misses = Counter(label: "qlik_mcp_cache_requests_total", dimensions: [("cache", "field_names"), ("tier", "l1"), ("result", "miss")])
    }

    private static func key(_ identity: String, _ appID: String) -> String { identity + "\u{0}" + appID.lowercased() }

    /// Cached names (sorted) of `appID` as `identity` sees them, or nil when absent or expired.
    func names(_ appID: String, identity: String) -> (names: [String], lookup: Set<String>)? {
        let key = Self.key(identity, appID)
        let found = entries.withLock { entries -> (names: [String], lookup: Set<String>)? in
            guard let entry = entries[key] else { return nil }
            guard entry.expires > .now else {
                entries[key] = nil
                return nil
            }
            return (entry.names, entry.lookup)
        }
        (found == nil ? misses : hits).increment()
        return found
    }

    func store(_ names: [String], for appID: String, identity: String) {
        let key = Self.key(identity, appID)
        entries.withLock { entries in
            if entries.count >= capacity, entries[key] == nil,
                let oldest = entries.min(by: { $0.value.expires < $1.value.expires })?.key
            {
                entries[oldest] = nil
            }
            entries[key] = Entry(names: names, lookup: Set(names), app: appID.lowercased(), expires: .now + ttl)
        }
    }

    /// Forgets an app for every identity (its data model may have changed, e.g. after a reload).
    public func invalidate(_ appID: String) {
        let app = appID.lowercased()
        entries.withLock { entries in entries = entries.filter { $0.value.app != app } }
    }

    /// Forgets every app.
    public func invalidateAll() {
        entries.withLock { $0.removeAll() }
    }
}
