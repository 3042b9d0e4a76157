import QlikEngine
import Testing

/// Engine sessions keyed by identity (`/app/<id>/identity/<key>`), as Qlik engines and the demo
/// engine key them: what lets every replica of the MCP server see one MCP session's selections.
@Suite("engine sessions by identity")
struct EngineIdentityTests {
    /// A connection to the sales app opened with `identity` (nil: a session of its own).
    static func open(_ identity: String?) async throws -> (QIXConnection, Doc) {
        let endpoint = await DemoEngineFixture.endpoint()
        let connection = try await QIXConnection.connect(to: endpoint, appID: "sales-analytics", identity: identity)
        return (connection, try await Global(connection: connection).openDoc("sales-analytics"))
    }

    static func sales(_ doc: Doc) async throws -> Double { try #require(try await doc.evaluateEx("Sum(Sales)").number) }

    @Test("the URL carries the identity; the identity of an MCP session is a stable digest, not the id")
    func url() {
        let endpoint = QIXEndpoint.desktop(host: "127.0.0.1", port: 4848)
        #expect(endpoint.url(forApp: "sales analytics", identity: "mcp-1") == "ws://127.0.0.1:4848/app/sales%20analytics/identity/mcp-1")
        #expect(endpoint.url(forApp: nil, identity: "mcp-1") == "ws://127.0.0.1:4848/app/")
        let identity = QIXEndpoint.sessionIdentity(for: "0f8a2c1e-aaaa-bbbb-cccc-0123456789ab")
        #expect(identity == QIXEndpoint.sessionIdentity(for: "0f8a2c1e-aaaa-bbbb-cccc-0123456789ab"))
        #expect(identity != QIXEndpoint.sessionIdentity(for: "0f8a2c1e-aaaa-bbbb-cccc-0123456789ac"))
        #expect(identity.hasPrefix("mcp-") && identity.count == 36 && !identity.contains("0f8a2c1e"))
    }

    @Test("two sockets with the same identity share selections; another identity or none does not")
    func sharing() async throws {
        let (first, firstDoc) = try await Self.open("mcp-share-a")
        let (second, secondDoc) = try await Self.open("mcp-share-a")
        let (other, otherDoc) = try await Self.open("mcp-share-b")
        let (plain, plainDoc) = try await Self.open(nil)
        defer { for connection in [first, second, other, plain] { connection.close() } }
        let all = try await Self.sales(firstDoc)
        #expect(try await firstDoc.field("Region").select("Europe"))
        let europe = try await Self.sales(firstDoc)
        #expect(europe < all)
        #expect(try await Self.sales(secondDoc) == europe)  // the same engine session
        #expect(try await Self.sales(otherDoc) == all)
        #expect(try await Self.sales(plainDoc) == all)
        // The selection outlives the socket that made it (a replica that dies).
        first.close()
        let (again, againDoc) = try await Self.open("mcp-share-a")
        defer { again.close() }
        #expect(try await Self.sales(againDoc) == europe)
    }
}
