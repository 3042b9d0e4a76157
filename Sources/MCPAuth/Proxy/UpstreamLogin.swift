import Foundation
import JSONCore
import Logging

/// The sign-in at the upstream provider: the authorization URL qlik-mcp redirects the browser
/// to (with its own PKCE and, for OpenID Connect, a nonce), and the code exchange that yields the
/// user's identity. The upstream access token is used once to read the identity and then dropped:
/// it is never stored, logged, or passed to Qlik.
actor UpstreamLogin {
    let configuration: UpstreamProviderConfiguration
    let callbackURL: String
    private let http: OAuthHTTPClient
    private let logger: Logger
    private var endpoints: UpstreamEndpoints?

    init(configuration: UpstreamProviderConfiguration, callbackURL: String, http: OAuthHTTPClient, logger: Logger) {
        self.configuration = configuration
        self.callbackURL = callbackURL
        self.http = http
        self.logger = logger
    }

    /// The provider's endpoints, discovered once (retried on the next login after a failure).
    func resolved() async throws(UpstreamError) -> UpstreamEndpoints {
        if let endpoints { return endpoints }
        let found = try await UpstreamEndpoints.resolve(configuration, http: http, logger: logger)
        endpoints = found
        return found
    }

    func authorizationURL(state: String, verifier: String, nonce: String) async throws(UpstreamError) -> String {
        let endpoints = try await resolved()
        var query: [(String, String)] = [
            ("response_type", "code"), ("client_id", configuration.clientID), ("redirect_uri", callbackURL),
            ("scope", endpoints.scopes.joined(separator: " ")), ("state", state),
            ("code_challenge", OAuthSecrets.challenge(forVerifier: verifier)), ("code_challenge_method", "S256"),
        ]
        if case .idToken = endpoints.identity { query.append(("nonce", nonce)) }
        return endpoints.authorize + (endpoints.authorize.contains("?") ? "&" : "?") + FormEncoding.encode(query)
    }

    /// Exchanges the upstream code and reads who signed in.
    func identity(code: String, verifier: String, nonce: String) async throws(UpstreamError) -> UpstreamIdentity {
        let endpoints = try await resolved()
        let answer: (status: Int, json: JSONValue)
        do {
            answer = try await http.postForm(
                endpoints.token,
                form: [
                    ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", callbackURL), ("client_id", configuration.clientID),
                    ("client_secret", configuration.clientSecret), ("code_verifier", verifier),
                ])
        } catch {
            throw UpstreamError("the provider's token endpoint could not be reached: \(error.description)")
        }
        guard answer.status == 200, answer.json["error"] == nil else {
            throw UpstreamError("the provider refused the code (HTTP \(answer.status), \(answer.json["error"]?.stringValue ?? "no error code"))")
        }
        let preset = configuration.preset.rawValue
        switch endpoints.identity {
        case .idToken(let issuer, let also, let keys):
            guard let idToken = answer.json["id_token"]?.stringValue else { throw UpstreamError("the provider's token answer has no id_token") }
            let validator = JWTAccessTokenValidator(issuer: issuer, audience: configuration.clientID, keys: keys, alsoAcceptedIssuers: also)
            switch await validator.validate(idToken) {
            case .failure(let failure):
                throw UpstreamError("the provider's id_token was refused: \(failure.reason)")
            case .success(let principal):
                guard principal.claims["nonce"] == nonce else { throw UpstreamError("the provider's id_token carries the wrong nonce") }
                var claims: [String: String] = [:]
                for name in ["preferred_username", "email", "name", "upn", "oid", "unique_name"] { claims[name] = principal.claims[name] }
                let subject = configuration.preset == .entra ? (principal.claims["oid"] ?? principal.subject) : principal.subject
                return UpstreamIdentity(subject: "\(preset)|\(subject)", claims: claims)
            }
        case .userAPI(let url, let idField, let mapping):
            guard let accessToken = answer.json["access_token"]?.stringValue else { throw UpstreamError("the provider's token answer has no access_token") }
            let user: JSONValue
            do {
                user = try await http.getJSON(url, headers: [("Authorization", "Bearer \(accessToken)")])
            } catch {
                throw UpstreamError("the provider's user endpoint failed: \(error.description)")
            }
            guard let id = user[idField].flatMap({ $0.stringValue ?? $0.intValue.map(String.init) }), !id.isEmpty else {
                throw UpstreamError("the provider's user answer has no \(idField)")
            }
            var claims: [String: String] = [:]
            for (field, claim) in mapping { if let value = user[field]?.stringValue, value.count <= 256 { claims[claim] = value } }
            return UpstreamIdentity(subject: "\(preset)|\(id)", claims: claims)
        }
    }
}
