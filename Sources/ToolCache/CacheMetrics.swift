import Metrics
import QlikTools
import Synchronization
import Telemetry

/// The cache's metrics, handles created once per label set:
/// `qlik_mcp_cache_requests_total{cache,tier,result}` (cache = class; tier l1, l2 or none for
/// bypasses; result hit, miss, stale, bypass), `qlik_mcp_cache_evictions_total{cache,tier,reason}`,
/// `qlik_mcp_cache_entries` / `_bytes` / `_max_bytes{tier}`, `qlik_mcp_cache_singleflight_waiters`,
/// `qlik_mcp_cache_singleflight_coalesced_total`, `qlik_mcp_cache_l2_errors_total{operation}`,
/// `qlik_mcp_cache_invalidations_total{reason}`, `qlik_mcp_cache_warm_calls_total{outcome}`.
final class CacheMetrics: Sendable {
    private let counters = CounterSet()
    private let entries = Gauge(label: "qlik_mcp_cache_entries", dimensions: [("tier", "l1")])
    private let bytes = Gauge(label: "qlik_mcp_cache_bytes", dimensions: [("tier", "l1")])
    private let waiters = Gauge(label: "qlik_mcp_cache_singleflight_waiters")

    init(maxBytes: Int) {
        Gauge(label: "qlik_mcp_cache_max_bytes", dimensions: [("tier", "l1")]).record(maxBytes)
        entries.record(0)
        bytes.record(0)
        waiters.record(0)
        // Every class and result exists from the start (rates and ratios need both sides).
        for cacheClass in [CacheClass.metadata, .masterItems, .data] {
            for result in ["hit", "miss"] {
                request(cacheClass, tier: .l1, result: result, count: 0)
            }
        }
        counter("qlik_mcp_cache_singleflight_coalesced_total", [])
        for reason in ["write", "flush", "version"] { counter("qlik_mcp_cache_invalidations_total", [("reason", reason)]) }
        for reason in [SieveStore.Removal.capacity, .flushed] {
            for cacheClass in [CacheClass.metadata, .masterItems, .data] {
                counter("qlik_mcp_cache_evictions_total", [("cache", cacheClass.rawValue), ("tier", "l1"), ("reason", reason.rawValue)])
            }
        }
        for operation in ["get", "set"] { counter("qlik_mcp_cache_l2_errors_total", [("operation", operation)]) }
        for outcome in ["ok", "error"] { counter("qlik_mcp_cache_warm_calls_total", [("outcome", outcome)]) }
    }

    @discardableResult
    private func counter(_ label: String, _ dimensions: [(String, String)]) -> Counter {
        counters.counter(label, dimensions)
    }

    func request(_ cacheClass: CacheClass, tier: CacheReport.Tier?, result: String, count: Int = 1) {
        let handle = counter("qlik_mcp_cache_requests_total", [("cache", cacheClass.rawValue), ("tier", tier?.rawValue ?? "none"), ("result", result)])
        if count > 0 { handle.increment(by: count) }
    }

    func evicted(_ removed: [CacheEntry], reason: SieveStore.Removal) {
        for entry in removed {
            counter("qlik_mcp_cache_evictions_total", [("cache", entry.cacheClass.rawValue), ("tier", "l1"), ("reason", reason.rawValue)]).increment()
        }
    }

    func usage(entries count: Int, bytes size: Int) {
        entries.record(count)
        bytes.record(size)
    }

    func singleFlight(waiting: Int, coalesced: Bool) {
        waiters.record(waiting)
        if coalesced { counter("qlik_mcp_cache_singleflight_coalesced_total", []).increment() }
    }

    func sharedTierError(_ operation: String) {
        counter("qlik_mcp_cache_l2_errors_total", [("operation", operation)]).increment()
    }

    func invalidation(_ reason: String) {
        counter("qlik_mcp_cache_invalidations_total", [("reason", reason)]).increment()
    }

    func warmCall(ok: Bool) {
        counter("qlik_mcp_cache_warm_calls_total", [("outcome", ok ? "ok" : "error")]).increment()
    }
}
