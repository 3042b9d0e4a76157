import Foundation
import QlikTools
import Testing

@testable import ToolCache

@Suite("SIEVE store (L1)")
struct SieveStoreTests {
    static func entry(bytes: Int, app: String? = nil) -> CacheEntry {
        CacheEntry(payload: .output(ToolOutput(structured: [:], text: "")), cacheClass: .metadata, storedAt: 0, freshUntil: 1, staleUntil: 1, app: app, bytes: bytes)
    }

    @Test("the byte bound holds under a flood of answers of random sizes, and the entry bound too")
    func bounds() {
        let store = SieveStore(maxBytes: 100_000, maxEntries: 50)
        var generator = SystemRandomNumberGenerator()
        for index in 0..<5_000 {
            store.insert("k\(index % 700)", Self.entry(bytes: Int.random(in: 1...20_000, using: &generator)))
            if index % 3 == 0 { _ = store.get("k\(Int.random(in: 0..<700, using: &generator))") }
            let usage = store.usage
            #expect(usage.bytes <= 100_000)
            #expect(usage.entries <= 50)
        }
        #expect(store.usage.entries > 0)
        #expect(store.insert("huge", Self.entry(bytes: 100_001)).isEmpty)
        #expect(store.get("huge") == nil)
    }

    @Test("an entry used between eviction passes survives a scan of one-off entries")
    func scanResistance() {
        let store = SieveStore(maxBytes: 1 << 20, maxEntries: 8)
        store.insert("hot", Self.entry(bytes: 10))
        for index in 0..<200 {
            _ = store.get("hot")
            store.insert("once-\(index)", Self.entry(bytes: 10))
            #expect(store.get("hot") != nil, "evicted at \(index)")
        }
        #expect(store.get("once-0") == nil)
        #expect(store.get("once-199") != nil)
    }

    @Test("without visits the oldest entry goes first; replacing an entry keeps the byte count right")
    func fifoWithoutVisits() {
        let store = SieveStore(maxBytes: 30, maxEntries: 100)
        store.insert("a", Self.entry(bytes: 10))
        store.insert("b", Self.entry(bytes: 10))
        store.insert("c", Self.entry(bytes: 10))
        store.insert("d", Self.entry(bytes: 10))
        #expect(store.get("a") == nil)
        #expect(store.get("d") != nil)
        store.insert("d", Self.entry(bytes: 5))
        #expect(store.usage.bytes == 25)
        store.insert("d", Self.entry(bytes: 30))
        #expect(store.usage.bytes <= 30)
        #expect(store.get("d")?.bytes == 30)
    }

    @Test("entries of one app are removed together")
    func removeByApp() {
        let store = SieveStore(maxBytes: 1_000, maxEntries: 100)
        store.insert("1", Self.entry(bytes: 1, app: "a"))
        store.insert("2", Self.entry(bytes: 1, app: "b"))
        store.insert("3", Self.entry(bytes: 1, app: "a"))
        let removed = store.removeAll { $0.app == "a" }
        #expect(removed.count == 2)
        #expect(store.get("2") != nil && store.get("1") == nil && store.get("3") == nil)
        #expect(store.usage == (1, 1))
    }
}
