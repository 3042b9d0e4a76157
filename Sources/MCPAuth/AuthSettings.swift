import Foundation
import JSONCore
import Logging
import QlikTools

/// Which credentials the HTTP transports accept (`--auth`).
public enum AuthMode: String, CaseIterable, Sendable {
    case none
    case oauth
    case apikey
    case oauthAndAPIKey = "oauth+apikey"

    var acceptsOAuth: Bool { self == .oauth || self == .oauthAndAPIKey }
    var acceptsAPIKeys: Bool { self == .apikey || self == .oauthAndAPIKey }
}

/// The authentication settings of `serve` (flags, environment, config file), before start-up.
public struct AuthSettings: Sendable {
    public var mode: AuthMode = .none
    /// The URL clients reach the server at, e.g. `https://mcp.example.com` (defaults to the listen address on loopback).
    public var publicURL: String?
    /// The `aud` tokens must carry; defaults to the resource, `<public URL>/mcp`.
    public var audience: String?
    /// Resource-server mode: the external authorization server whose tokens are accepted.
    public var issuer: String?
    /// Proxy mode: the upstream provider users sign in with.
    public var upstream: UpstreamProviderConfiguration?
    public var apiKeysFile: String?
    public var introspection: IntrospectionConfiguration?
    /// Proxy mode: PEM files of the token-signing keys (first signs; the rest are still accepted).
    public var signingKeyFiles: [String] = []
    public var accessTokenLifetime: TimeInterval = 600
    public var refreshTokenLifetime: TimeInterval = 30 * 86_400
    public var allowedAlgorithms: Set<String> = JWTAccessTokenValidator.defaultAlgorithms
    /// Scopes a client is told to ask for in a 401, and granted when it asks for none.
    public var defaultScopes: Set<QlikScope> = [.read, .data]

    public init() {}
}

/// A setting combination that cannot work; the message names the flag to change.
public struct AuthSetupError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// Everything the HTTP host needs to authenticate requests, built once at start-up.
public struct HTTPAuth: Sendable {
    public let mode: AuthMode
    public let publicURL: String
    public let resource: String
    public let audience: String
    public let authenticator: BearerAuthenticator
    public let proxy: OAuthProxy?
    public let authorizationServers: [String]
    public let defaultScopes: Set<QlikScope>

    /// RFC 9728 §3.1: the metadata of the resource `<publicURL>/mcp` lives at the path-suffixed well-known URL.
    public var resourceMetadataURL: String { publicURL + "/.well-known/oauth-protected-resource/mcp" }

    /// Protected Resource Metadata (RFC 9728 §2).
    public var protectedResourceMetadata: JSONValue {
        var document: [String: JSONValue] = [
            "resource": .string(resource),
            "scopes_supported": .array(QlikScope.allCases.map { .string($0.rawValue) }),
            "bearer_methods_supported": ["header"],
            "resource_name": "qlik-mcp (Qlik Sense MCP server)",
            "resource_documentation": "https://github.com/qlik-mcp/qlik-mcp#deploy-remotely",
        ]
        if !authorizationServers.isEmpty { document["authorization_servers"] = .array(authorizationServers.map { .string($0) }) }
        return .object(document)
    }

    /// Builds the validators for `settings`. `listenURL` is the public URL when none is configured.
    /// `stateStore` holds the authorization-server proxy's state (shared by replicas with
    /// `--state redis`); nil keeps it in this process.
    public static func make(_ settings: AuthSettings, listenURL: String, stateStore: (any AuthStateStore)? = nil, logger: Logger) async throws(AuthSetupError) -> HTTPAuth? {
        guard settings.mode != .none else { return nil }
        if settings.publicURL == nil, let host = URLComponents(string: listenURL)?.host, !LoopbackHost.matches(host) {
            throw AuthSetupError("give --public-url https://… : the URL clients use to reach this server (it names the resource tokens must be for)")
        }
        let publicURL = (settings.publicURL ?? listenURL).trimmingSlash
        guard let components = URLComponents(string: publicURL), let scheme = components.scheme, ["http", "https"].contains(scheme),
            components.host != nil, components.query == nil, components.fragment == nil, components.path.isEmpty
        else {
            throw AuthSetupError(
                "--public-url must be the origin clients reach, without path, query or fragment, e.g. https://mcp.example.com (got \(publicURL)); serve qlik-mcp at the root of its host")
        }
        if scheme == "http", !LoopbackHost.matches(components.host ?? "") {
            throw AuthSetupError("--public-url must be https:// when the server is not on loopback: tokens must not travel in clear")
        }
        let resource = publicURL + "/mcp"
        let audience = settings.audience ?? resource
        var apiKeys: APIKeyFileVerifier?
        if settings.mode.acceptsAPIKeys {
            guard let file = settings.apiKeysFile else { throw AuthSetupError("--auth \(settings.mode.rawValue) needs --apikeys-file (create keys with qlik-mcp apikey create)") }
            do { apiKeys = try APIKeyFileVerifier(store: APIKeyStore(path: URL(fileURLWithPath: file))) } catch { throw AuthSetupError(error.description) }
        }
        var jwt: JWTAccessTokenValidator?
        var introspector: TokenIntrospector?
        var proxy: OAuthProxy?
        var servers: [String] = []
        if settings.mode.acceptsOAuth {
            switch (settings.issuer, settings.upstream) {
            case (nil, nil):
                throw AuthSetupError(
                    "--auth \(settings.mode.rawValue) needs --oauth-issuer <URL> (tokens from an external authorization server) or --oauth-provider github|entra|google|qlik-cloud|oidc (qlik-mcp signs users in)"
                )
            case (.some, .some):
                throw AuthSetupError("give either --oauth-issuer or --oauth-provider, not both")
            case (let issuer?, nil):
                guard OAuthHTTPClient.isAllowed(issuer) else { throw AuthSetupError("--oauth-issuer must be an https URL (http only on loopback)") }
                jwt = JWTAccessTokenValidator(
                    issuer: issuer, audience: audience, keys: JWKSKeySource(issuer: issuer, logger: logger), allowedAlgorithms: settings.allowedAlgorithms,
                    cacheValidated: true)
                if let introspection = settings.introspection {
                    introspector = TokenIntrospector(configuration: introspection, audience: audience, issuer: issuer)
                }
                servers = [issuer]
            case (nil, let upstream?):
                do { try upstream.validate() } catch { throw AuthSetupError(error.description) }
                let configuration = OAuthProxy.Configuration(publicURL: publicURL, resource: resource, audience: audience, upstream: upstream)
                let issuer: SessionTokenIssuer
                do {
                    issuer = try await SessionTokenIssuer.load(
                        pemFiles: settings.signingKeyFiles, issuer: configuration.issuer, audience: audience,
                        lifetime: settings.accessTokenLifetime)
                } catch {
                    throw AuthSetupError(error.description)
                }
                if issuer.ephemeral, stateStore != nil {
                    throw AuthSetupError("with --state redis every replica must sign tokens with the same key: give --oauth-signing-key (the same PEM file on every replica)")
                }
                if issuer.ephemeral {
                    logger.warning("no --oauth-signing-key: tokens are signed with a key made at start-up and stop working when the server restarts")
                }
                var proxyConfiguration = configuration
                proxyConfiguration.refreshTokenLifetime = settings.refreshTokenLifetime
                proxyConfiguration.defaultScopes = settings.defaultScopes
                let built = OAuthProxy(configuration: proxyConfiguration, tokens: issuer, store: stateStore ?? InMemoryAuthStateStore(), logger: logger)
                jwt = JWTAccessTokenValidator(
                    issuer: configuration.issuer, audience: audience, keys: issuer.verificationKeys, allowedAlgorithms: ["ES256"],
                    isRevokedFamily: { await built.isRevoked(family: $0) }, cacheValidated: true)
                proxy = built
                servers = [configuration.issuer]
            }
        }
        return HTTPAuth(
            mode: settings.mode, publicURL: publicURL, resource: resource, audience: audience,
            authenticator: BearerAuthenticator(jwt: jwt, introspector: introspector, apiKeys: apiKeys),
            proxy: proxy, authorizationServers: servers, defaultScopes: settings.defaultScopes)
    }
}
