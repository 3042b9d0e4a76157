import AsyncHTTPClient
import Foundation
import NIOCore

/// qlik-mcp's cache counters read from its `/metrics` (HTTP targets named qlik-mcp…): answers
/// from a cache tier (hits and stale) and cacheable lookups, over the tool-cache classes.
struct CacheCounters {
    var answered = 0.0
    var lookups = 0.0

    /// The share answered from the cache between `before` and now; nil without lookups.
    func ratio(since before: CacheCounters) -> Double? {
        let lookups = self.lookups - before.lookups
        return lookups > 0 ? (answered - before.answered) / lookups : nil
    }

    static func read(_ target: BenchTarget, client: HTTPClient) async -> CacheCounters? {
        guard target.name.hasPrefix("qlik-mcp"), target.transport == .http, let url = target.url, url.hasSuffix("/mcp") else { return nil }
        guard let response = try? await client.execute(HTTPClientRequest(url: String(url.dropLast(4)) + "/metrics"), timeout: .seconds(10)),
            let body = try? await response.body.collect(upTo: 16 << 20)
        else { return nil }
        var counters = CacheCounters()
        for line in String(buffer: body).split(separator: "\n") where line.hasPrefix("qlik_mcp_cache_requests_total{") && !line.contains("field_names") {
            guard let value = line.split(separator: " ").last.flatMap({ Double($0) }) else { continue }
            if line.contains(#"result="hit""#) || line.contains(#"result="stale""#) { counters.answered += value }
            if line.contains(#"tier="l1""#), line.contains(#"result="hit""#) || line.contains(#"result="miss""#) { counters.lookups += value }
        }
        return counters
    }
}
