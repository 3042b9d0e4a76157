import Foundation
import MCPAuth
import QlikEngine
import QlikTools
import Testing

@Suite("Qlik identity mapping (hybrid mode)")
struct QlikIdentityMappingTests {
    func principal(_ claims: [String: String], method: Principal.Method = .oauth) -> Principal {
        Principal(method: method, subject: "sub-1", issuer: "https://as.example", scopes: [.read], claims: claims)
    }

    @Test("DOMAIN\\user splits; other values use the default directory; API keys and missing claims keep the service identity")
    func mapping() {
        let mapping = QlikIdentityMapping(claim: "upn", defaultDirectory: "CORP")
        #expect(mapping.qlikUser(for: principal(["upn": "EU\\alice"]))! == ("EU", "alice"))
        #expect(mapping.qlikUser(for: principal(["upn": "alice@corp.example"]))! == ("CORP", "alice@corp.example"))
        #expect(mapping.qlikUser(for: principal([:])) == nil)
        #expect(mapping.qlikUser(for: principal(["upn": "alice"], method: .apikey)) == nil)
        #expect(mapping.qlikUser(for: principal(["upn": "\\alice"])) == nil)
    }

    @Test("the mapped user is what the engine sees in X-Qlik-User; header injection is refused")
    func headers() throws {
        let endpoint = try QIXEndpoint.enterprise(
            host: "qlik.example", certificates: .init(clientCertificate: "c.pem", clientKey: "k.pem"),
            userDirectory: "SVC", userID: "mcp")
        let base = QlikBackend(kind: "enterprise", endpoint: endpoint)
        let mapping = QlikIdentityMapping(claim: "preferred_username", defaultDirectory: "CORP")
        let backend = try mapping.backend(for: principal(["preferred_username": "bob"]), base: base)
        #expect(backend.endpoint.headers.map(\.1) == ["UserDirectory=CORP; UserId=bob"])
        #expect(backend.pool === base.pool && backend.endpoint.identity != base.endpoint.identity)
        #expect(try mapping.backend(for: nil, base: base) === base)
        #expect(throws: QIXClientError.self) { try mapping.backend(for: principal(["preferred_username": "bob; UserId=admin"]), base: base) }
        let desktop = QlikBackend(kind: "desktop", endpoint: .desktop())
        #expect(throws: QIXClientError.self) { try mapping.backend(for: principal(["preferred_username": "bob"]), base: desktop) }
    }
}
