import DemoEngine
import Foundation
import JSONCore
import QlikEngine
import QlikTools
import Testing

@testable import ToolCache

@Suite("Tool cache layer against the demo engine", .serialized)
struct ToolCacheLayerTests {
    static let sales: JSONValue = ["app_id": "sales-analytics"]
    static let byRegion: JSONValue = ["app_id": "sales-analytics", "dimensions": ["Region"], "measures": ["Sum(Sales)"]]

    @Test("a repeated call is answered from L1 without any engine request; _meta says miss, then hit")
    func hitAfterMiss() async throws {
        try await CacheFixture.with { fixture in
            let cache = fixture.layer()
            await cache.start()
            let first = try await cache.call("list_measures", Self.sales)
            #expect(first.cache == "miss" && !first.isError)
            let before = fixture.engineRequests
            let second = try await cache.call("list_measures", Self.sales)
            #expect(second.cache == "hit" && second.tier == "l1")
            #expect(second.structured == first.structured)
            #expect(fixture.engineRequests == before)
            let reordered = try await cache.call("list_measures", ["app_id": "sales-analytics", "limit": 100])
            #expect(reordered.cache == "hit", "an explicit default is the same call")
        }
    }

    @Test("100 concurrent identical misses cost one engine call")
    func singleFlight() async throws {
        try await CacheFixture.with { fixture in
            let cache = fixture.layer()
            await cache.start()
            _ = try await cache.call("get_data_model", Self.sales, bypass: true)  // opens the pooled connection
            let one = fixture.engineRequests
            _ = try await cache.call("get_data_model", Self.sales, bypass: true)
            let perCall = fixture.engineRequests - one
            #expect(perCall > 0)
            await cache.flush(app: nil)
            fixture.faults.update { $0.latency = .milliseconds(200) }  // all 100 arrive while the first waits
            let before = fixture.engineRequests
            let answers = try await withThrowingTaskGroup(of: CallAnswer.self) { group in
                for _ in 0..<100 { group.addTask { try await cache.call("get_data_model", Self.sales) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            fixture.faults.update { $0.latency = .zero }
            #expect(answers.allSatisfy { !$0.isError })
            #expect(fixture.engineRequests - before == perCall)
            #expect(answers.filter { $0.cache == "miss" }.count == 1)
            #expect(answers.filter { $0.cache == "hit" }.count == 99)
        }
    }

    @Test("entries expire after their TTL (never later), and bypass refreshes an entry")
    func ttlAndBypass() async throws {
        try await CacheFixture.with { fixture in
            let clock = ManualClock()
            var settings = CacheSettings()
            settings.lifetimes[.masterItems] = .init(ttl: .seconds(60), staleFor: .zero)
            let cache = fixture.layer(settings, clock: clock.read)
            await cache.start()
            #expect(try await cache.call("list_dimensions", Self.sales).cache == "miss")
            clock.advance(50)
            #expect(try await cache.call("list_dimensions", Self.sales).cache == "hit")
            clock.advance(11)
            #expect(try await cache.call("list_dimensions", Self.sales).cache == "miss")
            let bypassed = try await cache.call("list_dimensions", Self.sales, bypass: true)
            #expect(bypassed.cache == "bypass" && bypassed.reason == "requested")
            var denied = settings
            denied.allowBypass = false
            let strict = fixture.layer(denied, clock: clock.read)
            await strict.start()
            _ = try await strict.call("list_dimensions", Self.sales)
            #expect(try await strict.call("list_dimensions", Self.sales, bypass: true).cache == "hit")
        }
    }

    @Test("data answers are keyed by the session's selections; selections in another session do not matter")
    func selections() async throws {
        try await CacheFixture.with { fixture in
            let cache = fixture.layer()
            await cache.start()
            let all = try await cache.call("query_data", Self.byRegion)
            #expect(all.cache == "miss")
            _ = try await cache.call("select_values", ["app_id": "sales-analytics", "field": "Region", "values": ["Americas"]])
            let selected = try await cache.call("query_data", Self.byRegion)
            #expect(selected.cache == "miss")
            #expect(selected.structured["rows"]?.arrayValue?.count == 1)
            #expect(try await cache.call("query_data", Self.byRegion, session: "other").cache == "hit", "no selections in the other session")
            _ = try await cache.call("clear_selections", Self.sales)
            let cleared = try await cache.call("query_data", Self.byRegion)
            #expect(cleared.cache == "hit")
            #expect(cleared.structured == all.structured)
        }
    }

    @Test("reload_app drops the app's answers at once; the new reload time is listed")
    func reloadInvalidates() async throws {
        try await CacheFixture.with { fixture in
            let cache = fixture.layer()
            await cache.start()
            let before = try await cache.call("get_app", Self.sales)
            #expect(try await cache.call("list_apps").cache == "miss")
            #expect(try await cache.call("list_apps").cache == "hit")
            let reload = try await cache.call("reload_app", Self.sales)
            #expect(!reload.isError && reload.cache == "bypass")
            let after = try await cache.call("get_app", Self.sales)
            #expect(after.cache == "miss")
            #expect(after.structured["last_reload_time"] != before.structured["last_reload_time"])
            let listed = try await cache.call("list_apps")
            #expect(listed.cache == "miss")
        }
    }

    @Test("\"not found\" is cached for the negative TTL only")
    func negativeCaching() async throws {
        try await CacheFixture.with { fixture in
            let clock = ManualClock()
            let cache = fixture.layer(clock: clock.read)
            await cache.start()
            let missing: JSONValue = ["app_id": "sales-analytics", "measure": "no-such-measure"]
            let first = try await cache.call("get_measure", missing)
            #expect(first.isError && first.cache == "miss")
            let second = try await cache.call("get_measure", missing)
            #expect(second.isError && second.cache == "hit")
            #expect(second.structured == first.structured)
            clock.advance(6)
            #expect(try await cache.call("get_measure", missing).cache == "miss")
            let noApp = try await cache.call("get_app", ["app_id": "no-such-app"])
            #expect(noApp.isError && noApp.cache == "miss")
            #expect(try await cache.call("get_app", ["app_id": "no-such-app"]).cache == "hit")
        }
    }

    @Test("engine unreachable: metadata is served stale with its age; data fails with a retryable error")
    func staleOnError() async throws {
        try await CacheFixture.with { fixture in
            let clock = ManualClock()
            let cache = fixture.layer(clock: clock.read)
            await cache.start()
            let fresh = try await cache.call("get_data_model", Self.sales)
            _ = try await cache.call("query_data", Self.byRegion)
            clock.advance(900)  // past the metadata TTL (600 s), within its stale age (3600 s)
            fixture.faults.update { $0.refuseConnections = true }
            await fixture.backend.pool.closeIdle()
            let stale = try await cache.call("get_data_model", Self.sales)
            #expect(stale.cache == "stale" && stale.tier == "l1")
            #expect((stale.age ?? 0) >= 899)
            #expect(stale.structured == fresh.structured)
            let data = try await cache.call("query_data", ["app_id": "sales-analytics", "dimensions": ["Country"], "measures": ["Sum(Sales)"]])
            #expect(data.isError)
            #expect(data.structured["error"]?["retryable"] == true)
            #expect(data.structured["error"]?["category"] == "engine_unavailable")
            clock.advance(4_000)  // beyond the stale age: the error comes through
            let tooOld = try await cache.call("get_data_model", Self.sales)
            #expect(tooOld.isError && tooOld.cache == "miss")
            fixture.faults.update { $0.refuseConnections = false }
        }
    }

    @Test("the byte bound holds under a flood of large answers")
    func byteBound() async throws {
        try await CacheFixture.with { fixture in
            var settings = CacheSettings()
            settings.maxBytes = 300 << 10
            settings.maxEntryBytes = 200 << 10
            let cache = fixture.layer(settings)
            await cache.start()
            for offset in 0..<12 {
                let answer = try await cache.call(
                    "query_data",
                    ["app_id": "sales-analytics", "dimensions": ["OrderID", "ProductName"], "measures": ["Sum(Sales)", "Sum(Quantity)"], "limit": .number(Double(900 + offset))])
                #expect(!answer.isError)
                #expect(cache.memory.usage.bytes <= 300 << 10)
            }
            #expect(cache.memory.usage.entries >= 2)
        }
    }

    @Test("--cache off: every call goes to the engine and says so")
    func off() async throws {
        try await CacheFixture.with { fixture in
            var settings = CacheSettings()
            settings.mode = .off
            let cache = fixture.layer(settings)
            _ = try await cache.call("list_measures", Self.sales)
            let before = fixture.engineRequests
            let answer = try await cache.call("list_measures", Self.sales)
            #expect(answer.cache == "bypass" && answer.reason == "disabled")
            #expect(fixture.engineRequests > before)
        }
    }
}
