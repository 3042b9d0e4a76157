import Foundation
import NIOSSL

/// Where a Qlik engine is and how to authenticate to it.
///
/// - Qlik Sense Enterprise on Windows: `wss://host:4747/app/<id>` with a client certificate,
///   key and root CA (PEM files exported from the QMC) and `X-Qlik-User: UserDirectory=…; UserId=…`.
/// - Qlik Cloud: `wss://<tenant>/app/<id>` with `Authorization: Bearer <API key>`.
/// - Qlik Sense Desktop or the demo engine: `ws://host:port/app/<id>`, no credentials.
public struct QIXEndpoint: Sendable {
    public enum Deployment: Sendable, Equatable {
        case desktop
        case enterprise(userDirectory: String, userID: String)
        case cloud
    }

    /// PEM files for TLS.
    public struct Certificates: Sendable, Equatable {
        public var clientCertificate: String?
        public var clientKey: String?
        public var rootCA: String?

        public init(clientCertificate: String? = nil, clientKey: String? = nil, rootCA: String? = nil) {
            self.clientCertificate = clientCertificate
            self.clientKey = clientKey
            self.rootCA = rootCA
        }
    }

    public let deployment: Deployment
    /// `ws://host:port` or `wss://host[:port]`, without the `/app/…` path.
    public let baseURL: String
    public let host: String
    public let certificates: Certificates
    /// Qlik Cloud API key (sent as a bearer token; never logged).
    let apiKey: String?
    /// Turns TLS certificate verification off. Only for test installations; logged as a warning.
    public let insecureSkipVerify: Bool
    /// Optional path prefix of a virtual proxy (Enterprise), e.g. `/sales`.
    public let virtualProxy: String

    /// Desktop or the demo engine: `ws://host:port`.
    public static func desktop(host: String = "127.0.0.1", port: Int = 4848) -> QIXEndpoint {
        QIXEndpoint(deployment: .desktop, baseURL: "ws://\(host):\(port)", host: host, certificates: .init(), apiKey: nil, insecureSkipVerify: false, virtualProxy: "")
    }

    /// Qlik Sense Enterprise with certificate authentication.
    public static func enterprise(
        host: String, port: Int = 4747, certificates: Certificates, userDirectory: String, userID: String,
        virtualProxy: String = "", insecureSkipVerify: Bool = false
    ) throws -> QIXEndpoint {
        guard certificates.clientCertificate != nil, certificates.clientKey != nil else {
            throw QIXClientError.invalidConfiguration("Qlik Sense Enterprise needs a client certificate and key (client.pem, client_key.pem from the QMC export)")
        }
        guard !userDirectory.isEmpty, !userID.isEmpty else {
            throw QIXClientError.invalidConfiguration("Qlik Sense Enterprise needs a user directory and user id for X-Qlik-User")
        }
        for header in [userDirectory, userID] where header.contains(";") || header.contains("\n") || header.contains("\r") {
            throw QIXClientError.invalidConfiguration("user directory and user id may not contain ';' or line breaks")
        }
        return QIXEndpoint(
            deployment: .enterprise(userDirectory: userDirectory, userID: userID), baseURL: "wss://\(host):\(port)", host: host,
            certificates: certificates, apiKey: nil, insecureSkipVerify: insecureSkipVerify, virtualProxy: virtualProxy)
    }

    /// Qlik Cloud with an API key. `tenant` is the host, e.g. `acme.eu.qlikcloud.com`.
    public static func cloud(tenant: String, apiKey: String, port: Int? = nil, rootCA: String? = nil, insecureSkipVerify: Bool = false) throws -> QIXEndpoint {
        guard !apiKey.isEmpty, !apiKey.contains(where: { $0.isWhitespace }) else {
            throw QIXClientError.invalidConfiguration("the Qlik Cloud API key is empty or contains whitespace")
        }
        let host = tenant.replacingOccurrences(of: "https://", with: "").replacingOccurrences(of: "wss://", with: "")
            .trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        return QIXEndpoint(
            deployment: .cloud, baseURL: "wss://\(host)\(port.map { ":\($0)" } ?? "")", host: host,
            certificates: .init(rootCA: rootCA), apiKey: apiKey, insecureSkipVerify: insecureSkipVerify, virtualProxy: "")
    }

    /// The WebSocket URL of an app session (or a Global-only session when `appID` is nil). With
    /// an `identity`, `/identity/<identity>` is appended: Qlik engines key a session by user, app
    /// and identity, so every connection with the same identity — from any replica — shares one
    /// engine session and its selections.
    public func url(forApp appID: String?, identity: String? = nil) -> String {
        let proxy = virtualProxy.isEmpty ? "" : "/" + virtualProxy.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        let segment = CharacterSet.urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))
        let encoded = appID?.addingPercentEncoding(withAllowedCharacters: segment) ?? ""
        let suffix = identity.flatMap { $0.addingPercentEncoding(withAllowedCharacters: segment) }.map { "/identity/\($0)" } ?? ""
        return "\(baseURL)\(proxy)/app/\(encoded)\(appID == nil ? "" : suffix)"
    }

    /// The engine-session identity of an MCP session: a stable digest of its id (the id itself,
    /// a credential of sorts, never reaches the engine or its logs). FNV-1a, 64 bits, twice with
    /// different offsets: collisions between live sessions are out of reach, and no secret depends on it.
    public static func sessionIdentity(for sessionID: String) -> String {
        func fnv(_ offset: UInt64) -> UInt64 {
            var hash = offset
            for byte in sessionID.utf8 {
                hash ^= UInt64(byte)
                hash = hash &* 0x100_0000_01b3
            }
            return hash
        }
        let parts = [fnv(0xcbf2_9ce4_8422_2325), fnv(0x8422_2325_cbf2_9ce4)].map { part -> String in
            let hex = String(part, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }
        return "mcp-" + parts.joined()
    }

    /// A stable name for metrics and pool keys (no credentials).
    public var engineID: String { baseURL + virtualProxy }

    /// The identity the engine sees (for pool keys; not for logs).
    public var identity: String {
        switch deployment {
        case .desktop: return "desktop"
        case .enterprise(let directory, let user): return "\(directory)\\\(user)"
        case .cloud: return "apikey:\(apiKey.map { String($0.hashValue, radix: 16) } ?? "")"
        }
    }

    /// Headers of the WebSocket upgrade request.
    public var headers: [(String, String)] {
        switch deployment {
        case .desktop: return []
        case .enterprise(let directory, let user): return [("X-Qlik-User", "UserDirectory=\(directory); UserId=\(user)")]
        case .cloud: return [("Authorization", "Bearer \(apiKey ?? "")")]
        }
    }

    static func isIPAddress(_ host: String) -> Bool {
        let bare = host.split(separator: ":").count > 2 ? host : String(host.split(separator: ":").first ?? "")
        if bare.contains(":") { return true }  // IPv6 literal
        let parts = bare.split(separator: ".")
        return parts.count == 4 && parts.allSatisfy { UInt8($0) != nil }
    }

    /// TLS configuration for `wss://` endpoints (nil for `ws://`).
    public func tlsConfiguration() throws -> TLSConfiguration? {
        guard baseURL.hasPrefix("wss://") else { return nil }
        if Self.isIPAddress(host) {
            throw QIXClientError.invalidConfiguration(
                "'\(host)' is an IP address; TLS needs the engine's DNS name (it is sent as SNI and checked against the certificate)")
        }
        var tls = TLSConfiguration.makeClientConfiguration()
        do {
            if let path = certificates.clientCertificate {
                tls.certificateChain = try NIOSSLCertificate.fromPEMFile(path).map { .certificate($0) }
            }
            if let path = certificates.clientKey {
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: path, format: .pem))
            }
            if let path = certificates.rootCA {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(path))
            }
        } catch {
            throw QIXClientError.invalidConfiguration("could not read the TLS material (\(error)); check the PEM file paths and permissions")
        }
        if insecureSkipVerify { tls.certificateVerification = .none }
        return tls
    }
}

extension QIXEndpoint {
    /// The same Enterprise endpoint acting as another user (`X-Qlik-User`), for the "hybrid" mode
    /// where each authenticated MCP user is mapped to their own Qlik identity. Only Enterprise
    /// (certificate) endpoints can act for a user; the values may not contain `;` or line breaks.
    public func actingAs(userDirectory: String, userID: String) throws -> QIXEndpoint {
        guard case .enterprise = deployment else {
            throw QIXClientError.invalidConfiguration("acting as a mapped user needs a Qlik Sense Enterprise (certificate) endpoint")
        }
        guard !userDirectory.isEmpty, !userID.isEmpty, userDirectory.count <= 256, userID.count <= 256 else {
            throw QIXClientError.invalidConfiguration("the mapped user directory and user id must be 1 to 256 characters")
        }
        for value in [userDirectory, userID] where value.contains(where: { $0 == ";" || $0 == "\\" || $0.isNewline || $0.asciiValue.map { $0 < 0x20 } == true }) {
            throw QIXClientError.invalidConfiguration("the mapped user directory and user id may not contain ';', '\\\\' or control characters")
        }
        return QIXEndpoint(
            deployment: .enterprise(userDirectory: userDirectory, userID: userID), baseURL: baseURL, host: host,
            certificates: certificates, apiKey: nil, insecureSkipVerify: insecureSkipVerify, virtualProxy: virtualProxy)
    }
}
