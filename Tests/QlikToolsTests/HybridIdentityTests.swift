import DemoEngine
import Foundation
import HTTPTypes
import Logging
import MCPAuth
import MCPServerHost
import QlikEngine
import QlikTools
import Synchronization
import TestSupport
import Testing

/// Hybrid mode end to end below HTTP: sessions of different OAuth users reach a certificate-secured
/// (wss + client certificate) demo engine each as their own `X-Qlik-User`; an API key keeps the
/// service identity.
@Suite("Hybrid Qlik identity", .serialized)
struct HybridIdentityTests {
    @Test("each user's tool calls arrive at the engine as that user; API keys as the service user")
    func mappedUsersReachTheEngine() async throws {
        let pki = TestCertificates.shared
        let seen = Mutex<[String]>([])
        let server = DemoEngineServer(
            catalog: ToolsFixture.catalog,
            configuration: .init(
                host: "127.0.0.1", port: 0, tls: try pki.serverTLS(requireClientCertificate: true),
                authorize: { headers in
                    seen.withLock { $0.append(headers[HTTPField.Name("X-Qlik-User")!] ?? "") }
                    return true
                }),
            logger: Logger(label: "test.tls") { _ in SwiftLogNoOpLogHandler() })
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            let port = await server.listeningPort()
            defer { group.cancelAll() }
            let endpoint = try QIXEndpoint.enterprise(
                host: "localhost", port: port,
                certificates: .init(clientCertificate: pki.clientCertificate, clientKey: pki.clientKey, rootCA: pki.caCertificate),
                userDirectory: "SVC", userID: "qlik-mcp")
            let setup = try MCPServerSetup(
                backend: QlikBackend(kind: "enterprise", endpoint: endpoint), registry: try ToolRegistry(), dynamicToolsets: false,
                identityMapping: QlikIdentityMapping(claim: "preferred_username", defaultDirectory: "CORP"))
            let users: [(Principal, String)] = [
                (
                    Principal(method: .oauth, subject: "sub-a", issuer: "https://as", scopes: [.read, .data], claims: ["preferred_username": "alice"]),
                    "UserDirectory=CORP; UserId=alice"
                ),
                (
                    Principal(method: .oauth, subject: "sub-b", issuer: "https://as", scopes: [.read, .data], claims: ["preferred_username": "EU\\bob"]),
                    "UserDirectory=EU; UserId=bob"
                ),
                (Principal(method: .apikey, subject: "apikey:1", issuer: nil, scopes: [.read, .data]), "UserDirectory=SVC; UserId=qlik-mcp"),
            ]
            for (index, (principal, expected)) in users.enumerated() {
                seen.withLock { $0.removeAll() }
                let session = await setup.makeSession(sessionID: "hybrid-\(index)", backend: try setup.backend(for: principal), principal: principal)
                let (result, _) = try await session.tools.call("evaluate_expression", arguments: ["app_id": "sales-analytics", "expression": "Count(DISTINCT Region)"])
                #expect(result.isError != true)
                #expect(!seen.withLock { $0 }.isEmpty && seen.withLock { $0 }.allSatisfy { $0 == expected }, "\(seen.withLock { $0 })")
            }
            let hostile = Principal(method: .oauth, subject: "sub-c", issuer: "https://as", scopes: [.read], claims: ["preferred_username": "eve; UserId=admin"])
            #expect(throws: QIXClientError.self) { try setup.backend(for: hostile) }
        }
    }
}
