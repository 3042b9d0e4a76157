import DemoEngine
import Foundation
import HTTPTypes
import Logging
import NIOSSL
import QlikEngine
import Synchronization
import TestSupport
import Testing

/// Enterprise (mutual TLS + X-Qlik-User) and Cloud (API key) modes against a loopback `wss://`
/// demo engine that checks what arrives.
@Suite("Authentication modes", .serialized)
struct AuthenticationTests {
    let pki = TestCertificates.shared

    /// Runs a TLS demo engine; `authorize` sees the upgrade headers.
    func withTLSEngine<T: Sendable>(
        requireClientCertificate: Bool, authorize: @escaping @Sendable (HTTPFields) -> Bool,
        _ body: @Sendable (Int) async throws -> T
    ) async throws -> T {
        let tls = try pki.serverTLS(requireClientCertificate: requireClientCertificate)
        let server = DemoEngineServer(
            catalog: DemoEngineFixture.catalog,
            configuration: .init(host: "127.0.0.1", port: 0, tls: tls, authorize: authorize),
            logger: Logger(label: "test.tls") { _ in SwiftLogNoOpLogHandler() })
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            let port = await server.listeningPort()
            defer { group.cancelAll() }
            return try await body(port)
        }
    }

    @Test("Enterprise: client certificate, root CA and X-Qlik-User arrive; a foreign certificate is refused")
    func enterprise() async throws {
        let seen = Mutex<[String]>([])
        try await withTLSEngine(
            requireClientCertificate: true,
            authorize: { headers in
                seen.withLock { $0.append(headers[HTTPField.Name("X-Qlik-User")!] ?? "") }
                return true
            }
        ) { port in
            let endpoint = try QIXEndpoint.enterprise(
                host: "localhost", port: port,
                certificates: .init(clientCertificate: pki.clientCertificate, clientKey: pki.clientKey, rootCA: pki.caCertificate),
                userDirectory: "CORP", userID: "jdoe")
            #expect(endpoint.url(forApp: "sales-analytics") == "wss://localhost:\(port)/app/sales-analytics")
            let connection = try await QIXConnection.connect(to: endpoint, appID: "sales-analytics")
            let doc = try await Global(connection: connection).openDoc("sales-analytics")
            #expect(try await doc.evaluate("Count(DISTINCT Region)") == "4")
            connection.close()
            #expect(seen.withLock { $0 } == ["UserDirectory=CORP; UserId=jdoe"])

            let rogue = try QIXEndpoint.enterprise(
                host: "localhost", port: port,
                certificates: .init(clientCertificate: pki.rogueCertificate, clientKey: pki.rogueKey, rootCA: pki.caCertificate),
                userDirectory: "CORP", userID: "jdoe")
            await #expect { try await QIXConnection.connect(to: rogue, appID: nil, options: .init(connectTimeout: .seconds(5))) } throws: { error in
                if case .connectionFailed = error as? QIXClientError { return true }
                return false
            }
            // The server's certificate is not trusted without the root CA.
            let untrusted = try QIXEndpoint.enterprise(
                host: "localhost", port: port,
                certificates: .init(clientCertificate: pki.clientCertificate, clientKey: pki.clientKey),
                userDirectory: "CORP", userID: "jdoe")
            await #expect { try await QIXConnection.connect(to: untrusted, appID: nil, options: .init(connectTimeout: .seconds(5))) } throws: { error in
                guard case .connectionFailed(_, let reason) = error as? QIXClientError else { return false }
                return reason.contains("TLS") || reason.lowercased().contains("certificate")
            }
            // Turning verification off is possible, explicitly.
            let insecure = try QIXEndpoint.enterprise(
                host: "localhost", port: port,
                certificates: .init(clientCertificate: pki.clientCertificate, clientKey: pki.clientKey),
                userDirectory: "CORP", userID: "jdoe", insecureSkipVerify: true)
            let insecureConnection = try await QIXConnection.connect(to: insecure, appID: nil)
            #expect(try await Global(connection: insecureConnection).engineVersion() == "12.2027.0")
            insecureConnection.close()
        }
    }

    @Test("Cloud: the API key arrives as a bearer token; a wrong key is refused")
    func cloud() async throws {
        let seen = Mutex<[String]>([])
        try await withTLSEngine(
            requireClientCertificate: false,
            authorize: { headers in
                let value = headers[.authorization] ?? ""
                seen.withLock { $0.append(value) }
                return value == "Bearer good-key-123"
            }
        ) { port in
            let endpoint = try QIXEndpoint.cloud(tenant: "localhost", apiKey: "good-key-123", port: port, rootCA: pki.caCertificate)
            let connection = try await QIXConnection.connect(to: endpoint, appID: "hr-insights")
            #expect(try await Global(connection: connection).openDoc("hr-insights").genericID == "hr-insights")
            connection.close()
            let wrong = try QIXEndpoint.cloud(tenant: "localhost", apiKey: "bad-key", port: port, rootCA: pki.caCertificate)
            await #expect { try await QIXConnection.connect(to: wrong, appID: nil) } throws: { error in
                guard case .connectionFailed(_, let reason) = error as? QIXClientError else { return false }
                return reason.contains("refused the WebSocket upgrade")
            }
            #expect(seen.withLock { $0 } == ["Bearer good-key-123", "Bearer bad-key"])
        }
    }

    @Test("bad endpoint configuration is refused before connecting")
    func configuration() {
        #expect(throws: QIXClientError.self) { try QIXEndpoint.cloud(tenant: "t.example", apiKey: "") }
        #expect(throws: QIXClientError.self) { try QIXEndpoint.cloud(tenant: "t.example", apiKey: "has space") }
        #expect(throws: QIXClientError.self) {
            try QIXEndpoint.enterprise(host: "h", certificates: .init(), userDirectory: "D", userID: "u")
        }
        #expect(throws: QIXClientError.self) {
            try QIXEndpoint.enterprise(host: "h", certificates: .init(clientCertificate: "c", clientKey: "k"), userDirectory: "D", userID: "u; UserId=admin")
        }
        #expect(throws: QIXClientError.self) { try QIXEndpoint.cloud(tenant: "10.0.0.5", apiKey: "k").tlsConfiguration() }
        let missing = try? QIXEndpoint.enterprise(
            host: "h", certificates: .init(clientCertificate: "/nonexistent.pem", clientKey: "/nonexistent_key.pem"),
            userDirectory: "D", userID: "u")
        #expect(throws: QIXClientError.self) { try missing?.tlsConfiguration() }
    }
}
