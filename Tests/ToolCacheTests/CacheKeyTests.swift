import Foundation
import JSONCore
import QlikEngine
import QlikTools
import Testing

@testable import ToolCache

@Suite("Cache keys")
struct CacheKeyTests {
    static let base = CacheKey.Parts(
        tenant: "default", engine: "ws://e:4848", identity: "id-a", app: "Sales", appVersion: "2026-01-01", generation: "0:0", selections: nil,
        tool: "query_data", toolVersion: "1.0.0", arguments: "{}")

    @Test("every part of the key changes the digest; the app is kept lowercased for invalidation")
    func everyPartCounts() {
        let reference = CacheKey(Self.base).digest
        let changes: [(inout CacheKey.Parts) -> Void] = [
            { $0.tenant = "other" }, { $0.engine = "ws://f:4848" }, { $0.identity = "id-b" }, { $0.app = "HR" }, { $0.appVersion = "2026-01-02" },
            { $0.generation = "0:1" }, { $0.selections = "[]" }, { $0.tool = "list_fields" }, { $0.toolVersion = "1.0.1" }, { $0.arguments = "{\"a\":1}" },
        ]
        var digests = Set([reference])
        for change in changes {
            var parts = Self.base
            change(&parts)
            digests.insert(CacheKey(parts).digest)
        }
        #expect(digests.count == changes.count + 1)
        #expect(CacheKey(Self.base).app == "sales")
        #expect(reference.count == 64)
    }

    @Test("parts are length-prefixed: moving text from one part to the next gives another key")
    func noAmbiguity() {
        var first = Self.base
        first.tool = "ab"
        first.toolVersion = "c"
        var second = Self.base
        second.tool = "a"
        second.toolVersion = "bc"
        #expect(CacheKey(first).digest != CacheKey(second).digest)
    }

    @Test("canonical arguments: key order does not matter and schema defaults are filled in")
    func canonicalArguments() throws {
        let schema = Schema.object(
            "a", properties: [("app_id", .string("x")), ("limit", .integer("l", minimum: 1, maximum: 10, defaultValue: 5)), ("flag", .boolean("f", defaultValue: false))])
        let short = try ToolArguments(["app_id": "x"], schema: schema)
        let full = try ToolArguments(["flag": false, "limit": 5, "app_id": "x"], schema: schema)
        let other = try ToolArguments(["app_id": "x", "limit": 6], schema: schema)
        func text(_ arguments: ToolArguments) -> String { JSONCoding.serializeCanonical(ToolCacheLayer.canonicalArguments(arguments, schema: schema)) }
        #expect(text(short) == text(full))
        #expect(text(short) != text(other))
        #expect(text(full) == #"{"app_id":"x","flag":false,"limit":5}"#)
    }

    @Test("the identity digest differs per Qlik user and per API key, and never contains them")
    func identities() throws {
        let a = try QIXEndpoint.enterprise(
            host: "q.example.com", certificates: .init(clientCertificate: "/c.pem", clientKey: "/k.pem"), userDirectory: "CORP", userID: "alice")
        let b = try a.actingAs(userDirectory: "CORP", userID: "bob")
        let cloudA = try QIXEndpoint.cloud(tenant: "t.eu.qlikcloud.com", apiKey: "key-aaaa")
        let cloudB = try QIXEndpoint.cloud(tenant: "t.eu.qlikcloud.com", apiKey: "key-bbbb")
        let digests = [a, b, cloudA, cloudB].map(CacheKey.identity(of:))
        #expect(Set(digests).count == 4)
        #expect(CacheKey.identity(of: a) == CacheKey.identity(of: try b.actingAs(userDirectory: "CORP", userID: "alice")))
        #expect(!digests.contains { $0.contains("alice") || $0.contains("key-") })
    }
}
