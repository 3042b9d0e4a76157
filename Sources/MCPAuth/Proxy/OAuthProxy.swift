import Foundation
import JSONCore
import Logging
import QlikTools

/// qlik-mcp as the OAuth 2.1 authorization server its MCP clients see, for providers that do not
/// let MCP clients register themselves (GitHub, Entra ID, Google, Qlik Cloud, any OIDC provider).
///
/// Flow: `/oauth/register` (RFC 7591) → `/oauth/authorize` (PKCE S256 required) shows a consent
/// page naming the client and scopes → on approval the browser signs in upstream (with the
/// proxy's own PKCE and nonce) → `/oauth/callback` turns the upstream identity into a one-time
/// code for the client → `/oauth/token` exchanges it (and refresh tokens, rotated) for this
/// server's own short-lived JWT access tokens. All state lives in an `AuthStateStore` with TTLs.
public struct OAuthProxy: Sendable {
    public struct Configuration: Sendable {
        /// The server's public base URL, e.g. `https://mcp.example.com` (no trailing slash).
        public var publicURL: String
        /// The protected resource (`<publicURL>/mcp`), and the `aud` of issued tokens.
        public var resource: String
        public var audience: String
        public var upstream: UpstreamProviderConfiguration
        public var refreshTokenLifetime: TimeInterval = 30 * 86_400
        public var codeLifetime: Duration = .seconds(60)
        public var loginLifetime: Duration = .seconds(600)
        public var registrationLifetime: Duration = .seconds(90 * 86_400)
        /// Scopes granted when a client asks for none.
        public var defaultScopes: Set<QlikScope> = [.read, .data]

        public init(publicURL: String, resource: String, audience: String, upstream: UpstreamProviderConfiguration) {
            self.publicURL = publicURL
            self.resource = resource
            self.audience = audience
            self.upstream = upstream
        }

        /// The issuer identifier: `<publicURL>/oauth` (a path, so no client normalises a trailing slash into it).
        public var issuer: String { publicURL + "/oauth" }
    }

    public let configuration: Configuration
    public let tokens: SessionTokenIssuer
    let store: TypedStore
    let rawStore: any AuthStateStore
    let login: UpstreamLogin
    let telemetry: AuthTelemetry
    let secureCookies: Bool

    public init(
        configuration: Configuration, tokens: SessionTokenIssuer, store: any AuthStateStore = InMemoryAuthStateStore(),
        http: OAuthHTTPClient = OAuthHTTPClient(), telemetry: AuthTelemetry = .shared, logger: Logger
    ) {
        self.configuration = configuration
        self.tokens = tokens
        self.store = TypedStore(store: store)
        self.rawStore = store
        self.telemetry = telemetry
        self.secureCookies = configuration.publicURL.hasPrefix("https://")
        self.login = UpstreamLogin(configuration: configuration.upstream, callbackURL: configuration.issuer + "/callback", http: http, logger: logger)
    }

    /// True when tokens of this grant family were revoked (code replay, refresh-token reuse).
    /// Fails closed: when the store cannot be read, the family counts as revoked.
    public func isRevoked(family: String) async -> Bool {
        do { return try await rawStore.get(namespace: ProxyNamespace.revokedFamily, key: family) != nil } catch { return true }
    }

    // MARK: Metadata (RFC 8414)

    public var metadata: JSONValue {
        let issuer = configuration.issuer
        return [
            "issuer": .string(issuer),
            "authorization_endpoint": .string(issuer + "/authorize"),
            "token_endpoint": .string(issuer + "/token"),
            "registration_endpoint": .string(issuer + "/register"),
            "jwks_uri": .string(issuer + "/jwks"),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": .array(ClientRegistration.authMethods.map { .string($0) }),
            "scopes_supported": .array(QlikScope.allCases.map { .string($0.rawValue) }),
            "authorization_response_iss_parameter_supported": true,
            "service_documentation": "https://github.com/qlik-mcp/qlik-mcp#deploy-remotely",
        ]
    }

    // MARK: Registration (RFC 7591)

    func register(_ body: Data) async -> OAuthReply {
        guard body.count <= 64 * 1024, let json = try? JSONCoding.parse(body) else {
            return .error(400, "invalid_client_metadata", "the body must be a JSON object of client metadata (at most 64 KiB)")
        }
        let request: (name: String, redirectURIs: [String], grantTypes: [String], authMethod: String, scope: String?)
        do {
            request = try ClientRegistration.validate(json)
        } catch {
            telemetry.grant("register", outcome: "refused", clientID: nil, subject: nil, reason: error.error)
            return .error(400, error.error, error.description)
        }
        let clientID = "mcp_" + OAuthSecrets.token(bytes: 16)
        let secret = request.authMethod == "none" ? nil : OAuthSecrets.token()
        let now = Int(Date().timeIntervalSince1970)
        let client = RegisteredClient(
            clientID: clientID, secretSHA256: secret.map(OAuthSecrets.digest), name: request.name, redirectURIs: request.redirectURIs,
            grantTypes: request.grantTypes, authMethod: request.authMethod, scope: request.scope, issuedAt: now)
        do {
            try await store.put(client, ProxyNamespace.client, clientID, ttl: configuration.registrationLifetime)
        } catch {
            return .error(503, "temporarily_unavailable", "\(error)", headers: [("Retry-After", "60")])
        }
        telemetry.grant("register", outcome: "ok", clientID: clientID, subject: nil)
        var answer: [String: JSONValue] = [
            "client_id": .string(clientID), "client_id_issued_at": .number(Double(now)), "client_name": .string(request.name),
            "redirect_uris": .array(request.redirectURIs.map { .string($0) }), "grant_types": .array(request.grantTypes.map { .string($0) }),
            "response_types": ["code"], "token_endpoint_auth_method": .string(request.authMethod),
        ]
        if let secret {
            answer["client_secret"] = .string(secret)
            answer["client_secret_expires_at"] = .number(Double(now) + configuration.registrationLifetime.seconds)
        }
        if let scope = request.scope { answer["scope"] = .string(scope) }
        return .json(201, .object(answer))
    }

    // MARK: Authorization

    /// The page shown when the state store (Redis) cannot be reached.
    static func storeUnavailablePage(_ error: any Error) -> OAuthReply {
        .page(503, ConsentPage.error("Temporarily unavailable", "The sign-in service cannot reach its state store right now. Try again in a moment."), headers: [("Retry-After", "2")])
    }

    /// `GET /oauth/authorize`: checks the request and shows the consent page. Problems with the
    /// client or its redirect URI are shown to the user, never redirected (RFC 6749 §4.1.2.1).
    func authorize(_ query: [String: String]) async -> OAuthReply {
        do { return try await checkedAuthorize(query) } catch { return Self.storeUnavailablePage(error) }
    }

    private func checkedAuthorize(_ query: [String: String]) async throws -> OAuthReply {
        guard let clientID = query["client_id"], let client = try await store.get(RegisteredClient.self, ProxyNamespace.client, clientID) else {
            return .page(400, ConsentPage.error("Unknown application", "The client_id is missing or not registered with this server. The application must register first."))
        }
        let redirectURI: String
        if let asked = query["redirect_uri"] {
            guard RedirectURIPolicy.matches(asked, registered: client.redirectURIs) else {
                telemetry.grant("authorize", outcome: "refused", clientID: clientID, subject: nil, reason: "redirect_uri_mismatch")
                return .page(400, ConsentPage.error("Redirect address not registered", "The redirect_uri is not one this application registered, so no answer is sent to it."))
            }
            redirectURI = asked
        } else if client.redirectURIs.count == 1 {
            redirectURI = client.redirectURIs[0]
        } else {
            return .page(400, ConsentPage.error("Redirect address missing", "The application registered several redirect URIs and named none."))
        }
        let state = query["state"]
        func fail(_ code: String, _ text: String) -> OAuthReply {
            telemetry.grant("authorize", outcome: "refused", clientID: clientID, subject: nil, reason: code)
            return .redirect(to: redirectURI, [("error", code), ("error_description", text), ("state", state), ("iss", configuration.issuer)])
        }
        if let state, state.count > 1_024 { return fail("invalid_request", "state is longer than 1024 characters") }
        guard query["response_type"] == "code" else { return fail("unsupported_response_type", "response_type must be code") }
        guard let challenge = query["code_challenge"], query["code_challenge_method"] == "S256", OAuthSecrets.isValidChallenge(challenge) else {
            return fail("invalid_request", "PKCE is required: send code_challenge (43 base64url characters) with code_challenge_method=S256")
        }
        if let resource = query["resource"], !acceptsResource(resource) {
            return fail("invalid_target", "this server issues tokens for \(configuration.resource) only")
        }
        let scopes: Set<QlikScope>
        if let asked = query["scope"], !asked.trimmingCharacters(in: .whitespaces).isEmpty {
            do { scopes = try QlikScope.parseList(asked) } catch { return fail("invalid_scope", error.message) }
        } else if let registered = client.scope, let parsed = try? QlikScope.parseList(registered) {
            scopes = parsed
        } else {
            scopes = configuration.defaultScopes
        }
        let transaction = OAuthSecrets.token()
        let binding = OAuthSecrets.token()
        let pending = PendingAuthorization(
            clientID: clientID, clientName: client.name, redirectURI: redirectURI, state: state, codeChallenge: challenge,
            scopes: scopes.sorted().map(\.rawValue), browserBinding: OAuthSecrets.digest(binding))
        do {
            try await store.put(pending, ProxyNamespace.consent, OAuthSecrets.digest(transaction), ttl: configuration.loginLifetime)
        } catch {
            return .page(503, ConsentPage.error("Busy", "Too many sign-ins are in progress; try again in a minute."))
        }
        let host = URLComponents(string: redirectURI)?.host ?? redirectURI
        let html = ConsentPage.render(
            clientName: client.name, clientID: clientID, redirectHost: host, scopes: scopes.sorted(),
            provider: configuration.upstream.preset.rawValue, transaction: transaction)
        return .page(200, html, headers: [("Set-Cookie", cookie(binding, maxAge: Int(configuration.loginLifetime.seconds)))])
    }

    static let bindingCookie = "qmcp_login"

    private func cookie(_ value: String, maxAge: Int) -> String {
        "\(Self.bindingCookie)=\(value); Path=/oauth; Max-Age=\(maxAge); HttpOnly; SameSite=Lax\(secureCookies ? "; Secure" : "")"
    }

    func acceptsResource(_ resource: String) -> Bool {
        [configuration.resource, configuration.publicURL, configuration.publicURL + "/", configuration.audience].contains(resource)
    }

    /// `POST /oauth/consent`: the user's decision. The consent transaction is one-time and must
    /// come from the browser that was shown the page (its cookie).
    func consent(form: [String: String], cookie: String?) async -> OAuthReply {
        do { return try await checkedConsent(form: form, cookie: cookie) } catch { return Self.storeUnavailablePage(error) }
    }

    private func checkedConsent(form: [String: String], cookie: String?) async throws -> OAuthReply {
        guard let transaction = form["transaction"],
            let pending = try await store.take(PendingAuthorization.self, ProxyNamespace.consent, OAuthSecrets.digest(transaction))
        else {
            return .page(400, ConsentPage.error("Sign-in expired", "This sign-in request is unknown or has expired. Start again from the application."))
        }
        guard let cookie, APIKeyVerifier.constantTimeEqual(OAuthSecrets.digest(cookie), pending.browserBinding) else {
            telemetry.grant("consent", outcome: "refused", clientID: pending.clientID, subject: nil, reason: "browser_mismatch")
            return .page(400, ConsentPage.error("Sign-in refused", "The decision did not come from the browser that opened the sign-in page."))
        }
        guard form["decision"] == "approve" else {
            telemetry.grant("consent", outcome: "denied", clientID: pending.clientID, subject: nil)
            return .redirect(
                to: pending.redirectURI,
                [
                    ("error", "access_denied"), ("error_description", "the user denied access"),
                    ("state", pending.state), ("iss", configuration.issuer),
                ])
        }
        let state = OAuthSecrets.token()
        let verifier = OAuthSecrets.token()
        let nonce = OAuthSecrets.token(bytes: 16)
        do {
            try await store.put(
                UpstreamTransaction(pending: pending, verifier: verifier, nonce: nonce), ProxyNamespace.upstream,
                OAuthSecrets.digest(state), ttl: configuration.loginLifetime)
            let url = try await login.authorizationURL(state: state, verifier: verifier, nonce: nonce)
            telemetry.grant("consent", outcome: "ok", clientID: pending.clientID, subject: nil, scopes: pending.scopes)
            return .redirect(url)
        } catch {
            return .redirect(
                to: pending.redirectURI,
                [
                    ("error", "temporarily_unavailable"), ("error_description", "the sign-in provider is unavailable"),
                    ("state", pending.state), ("iss", configuration.issuer),
                ])
        }
    }

    /// `GET /oauth/callback`: back from the provider; hands the client a one-time code.
    func callback(_ query: [String: String]) async -> OAuthReply {
        do { return try await checkedCallback(query) } catch { return Self.storeUnavailablePage(error) }
    }

    private func checkedCallback(_ query: [String: String]) async throws -> OAuthReply {
        guard let state = query["state"],
            let transaction = try await store.take(UpstreamTransaction.self, ProxyNamespace.upstream, OAuthSecrets.digest(state))
        else {
            return .page(400, ConsentPage.error("Sign-in expired", "This sign-in is unknown, was already completed, or has expired. Start again from the application."))
        }
        let pending = transaction.pending
        func back(_ parameters: [(String, String?)]) -> OAuthReply {
            .redirect(to: pending.redirectURI, parameters + [("state", pending.state), ("iss", configuration.issuer)])
        }
        if let error = query["error"] {
            telemetry.grant("upstream_login", outcome: "refused", clientID: pending.clientID, subject: nil, reason: String(error.prefix(40)))
            return back([("error", "access_denied"), ("error_description", "the sign-in at the provider did not complete")])
        }
        guard let code = query["code"], !code.isEmpty, code.count <= 2_048 else {
            return back([("error", "server_error"), ("error_description", "the provider answered without a code")])
        }
        let identity: UpstreamIdentity
        do {
            identity = try await login.identity(code: code, verifier: transaction.verifier, nonce: transaction.nonce)
        } catch {
            telemetry.grant("upstream_login", outcome: "failed", clientID: pending.clientID, subject: nil, reason: "upstream_error")
            return back([("error", "server_error"), ("error_description", "the sign-in at the provider failed")])
        }
        let ours = OAuthSecrets.token()
        let issued = IssuedCode(
            clientID: pending.clientID, redirectURI: pending.redirectURI, codeChallenge: pending.codeChallenge,
            scopes: pending.scopes, identity: identity, family: OAuthSecrets.token(bytes: 16))
        do {
            try await store.put(issued, ProxyNamespace.code, OAuthSecrets.digest(ours), ttl: configuration.codeLifetime)
        } catch {
            return back([("error", "temporarily_unavailable"), ("error_description", "too many sign-ins in progress")])
        }
        telemetry.grant("authorization_code", outcome: "ok", clientID: pending.clientID, subject: pseudonym(identity), scopes: pending.scopes)
        return back([("code", ours)])
    }

    /// The same pseudonym the resource side logs for this user's requests.
    func pseudonym(_ identity: UpstreamIdentity) -> String {
        Principal(method: .oauth, subject: identity.subject, issuer: configuration.issuer, scopes: []).pseudonym
    }
}
