import Foundation
import NIOSSL

/// Test support shared by the test targets.
///
/// A throwaway PKI made with the `openssl` command: a CA, a server certificate for
/// localhost/127.0.0.1, a client certificate from the same CA, and a client certificate from an
/// unrelated CA (which the server must refuse).
public struct TestCertificates: Sendable {
    public let directory: URL
    public var caCertificate: String { path("ca.pem") }
    public var serverCertificate: String { path("server.pem") }
    public var serverKey: String { path("server_key.pem") }
    public var clientCertificate: String { path("client.pem") }
    public var clientKey: String { path("client_key.pem") }
    public var rogueCertificate: String { path("rogue_client.pem") }
    public var rogueKey: String { path("rogue_client_key.pem") }

    public func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// A server TLS configuration for localhost, optionally requiring a client certificate from the CA.
    public func serverTLS(requireClientCertificate: Bool) throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(serverCertificate).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: serverKey, format: .pem)))
        if requireClientCertificate {
            tls.certificateVerification = .noHostnameVerification
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caCertificate))
        }
        return tls
    }

    public static let shared: TestCertificates = {
        do { return try TestCertificates() } catch { fatalError("could not create test certificates with openssl: \(error)") }
    }()

    public init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("qlik-mcp-pki-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try "subjectAltName=DNS:localhost,IP:127.0.0.1\n".write(toFile: path("san.ext"), atomically: true, encoding: .utf8)
        try run(["req", "-x509"] + ec + ["-keyout", "ca_key.pem", "-out", "ca.pem", "-days", "2", "-subj", "/CN=qlik-mcp test CA"])
        try run(["req"] + ec + ["-keyout", "server_key.pem", "-out", "server.csr", "-subj", "/CN=localhost"])
        try run([
            "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca_key.pem", "-CAcreateserial",
            "-out", "server.pem", "-days", "2", "-extfile", "san.ext",
        ])
        try run(["req"] + ec + ["-keyout", "client_key.pem", "-out", "client.csr", "-subj", "/CN=QlikClient"])
        try run(["x509", "-req", "-in", "client.csr", "-CA", "ca.pem", "-CAkey", "ca_key.pem", "-CAcreateserial", "-out", "client.pem", "-days", "2"])
        try run(["req", "-x509"] + ec + ["-keyout", "rogue_client_key.pem", "-out", "rogue_client.pem", "-days", "2", "-subj", "/CN=Rogue"])
    }

    private func run(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            throw NSError(domain: "openssl", code: Int(process.terminationStatus), userInfo: [NSLocalizedDescriptionKey: message])
        }
    }
}
