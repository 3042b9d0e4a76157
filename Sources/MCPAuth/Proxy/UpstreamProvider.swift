import Foundation
import JSONCore
import Logging

/// The identity provider users sign in with when qlik-mcp is the authorization server its MCP
/// clients see (proxy mode): a preset and the credentials of the OAuth app registered there.
public struct UpstreamProviderConfiguration: Sendable {
    public enum Preset: String, CaseIterable, Sendable {
        case github
        case entra
        case google
        case qlikCloud = "qlik-cloud"
        case oidc
    }

    public var preset: Preset
    public var clientID: String
    public var clientSecret: String
    /// Entra: the tenant id (a GUID). Unused otherwise.
    public var tenant: String?
    /// qlik-cloud: the tenant URL; oidc: the issuer URL; github: a GitHub Enterprise Server URL
    /// (github.com when nil). Unused for entra and google.
    public var url: String?
    /// Scopes asked of the provider; nil: the preset's identity scopes.
    public var scopes: [String]?

    public init(preset: Preset, clientID: String, clientSecret: String, tenant: String? = nil, url: String? = nil, scopes: [String]? = nil) {
        self.preset = preset
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.tenant = tenant
        self.url = url
        self.scopes = scopes
    }

    /// Checks the preset's own settings; the message says which flag to add.
    public func validate() throws(UpstreamError) {
        guard !clientID.isEmpty, !clientSecret.isEmpty else {
            throw UpstreamError("the \(preset.rawValue) provider needs a client id and secret: QLIK_MCP_OAUTH_CLIENT_ID and QLIK_MCP_OAUTH_CLIENT_SECRET (or the *_FILE variants)")
        }
        switch preset {
        case .entra:
            guard let tenant, !tenant.isEmpty, tenant.allSatisfy({ $0.isHexDigit || $0 == "-" }) else {
                throw UpstreamError("entra needs --oauth-tenant <tenant id>: the directory (tenant) GUID of the app registration")
            }
        case .qlikCloud, .oidc:
            guard let url, OAuthHTTPClient.isAllowed(url) else {
                throw UpstreamError("\(preset.rawValue) needs --oauth-provider-url <https URL> (\(preset == .oidc ? "the issuer" : "the tenant URL, e.g. https://acme.eu.qlikcloud.com"))")
            }
        case .github:
            if let url, !OAuthHTTPClient.isAllowed(url) { throw UpstreamError("--oauth-provider-url must be an https URL (GitHub Enterprise Server)") }
        case .google:
            break
        }
    }
}

/// A provider that could not be configured or reached; the text says what to fix.
public struct UpstreamError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// Who signed in upstream: a provider-qualified subject and a few display claims.
struct UpstreamIdentity: Codable, Sendable {
    /// `<preset>|<provider's user id>`, stable across sign-ins.
    var subject: String
    /// `preferred_username`, `email`, `name`, and for Entra `oid`/`upn` when present.
    var claims: [String: String]
}

/// The provider's endpoints and how an identity is read from its answers.
struct UpstreamEndpoints: Sendable {
    enum IdentitySource: Sendable {
        /// OpenID Connect: the token answer's `id_token`, checked against the issuer's keys.
        case idToken(issuer: String, acceptedIssuers: Set<String>, keys: JWKSKeySource)
        /// OAuth 2.0 only: a user API called with the upstream access token.
        case userAPI(url: String, idField: String, claims: [String: String])
    }

    var authorize: String
    var token: String
    var scopes: [String]
    var identity: IdentitySource

    /// Resolves the preset (OpenID discovery for entra, google and oidc).
    static func resolve(_ configuration: UpstreamProviderConfiguration, http: OAuthHTTPClient, logger: Logger) async throws(UpstreamError) -> UpstreamEndpoints {
        switch configuration.preset {
        case .github:
            let base = (configuration.url ?? "https://github.com").trimmingSlash
            let api = configuration.url == nil ? "https://api.github.com" : base + "/api/v3"
            return UpstreamEndpoints(
                authorize: base + "/login/oauth/authorize", token: base + "/login/oauth/access_token",
                scopes: configuration.scopes ?? ["read:user"],
                identity: .userAPI(url: api + "/user", idField: "id", claims: ["login": "preferred_username", "email": "email", "name": "name"]))
        case .qlikCloud:
            let base = (configuration.url ?? "").trimmingSlash
            return UpstreamEndpoints(
                authorize: base + "/oauth/authorize", token: base + "/oauth/token", scopes: configuration.scopes ?? ["user_default"],
                identity: .userAPI(url: base + "/api/v1/users/me", idField: "id", claims: ["email": "email", "name": "name", "subject": "preferred_username"]))
        case .entra:
            return try await discover(issuer: "https://login.microsoftonline.com/\(configuration.tenant ?? "")/v2.0", also: [], configuration, http: http, logger: logger)
        case .google:
            return try await discover(issuer: "https://accounts.google.com", also: ["accounts.google.com"], configuration, http: http, logger: logger)
        case .oidc:
            return try await discover(issuer: configuration.url ?? "", also: [], configuration, http: http, logger: logger)
        }
    }

    private static func discover(
        issuer: String, also: Set<String>, _ configuration: UpstreamProviderConfiguration, http: OAuthHTTPClient,
        logger: Logger
    ) async throws(UpstreamError) -> UpstreamEndpoints {
        let metadata: JSONValue
        do {
            metadata = try await AuthorizationServerDiscovery.metadata(issuer: issuer, http: http)
        } catch {
            throw UpstreamError("the \(configuration.preset.rawValue) provider's metadata could not be read: \(error.description)")
        }
        guard let authorize = metadata["authorization_endpoint"]?.stringValue, let token = metadata["token_endpoint"]?.stringValue,
            OAuthHTTPClient.isAllowed(authorize), OAuthHTTPClient.isAllowed(token)
        else {
            throw UpstreamError("the metadata of \(issuer) lacks usable authorization_endpoint/token_endpoint")
        }
        let stated = metadata["issuer"]?.stringValue ?? issuer
        return UpstreamEndpoints(
            authorize: authorize, token: token, scopes: configuration.scopes ?? ["openid", "profile", "email"],
            identity: .idToken(issuer: stated, acceptedIssuers: also, keys: JWKSKeySource(issuer: issuer, http: http, logger: logger)))
    }
}

extension String {
    var trimmingSlash: String { hasSuffix("/") ? String(dropLast()) : self }
}
