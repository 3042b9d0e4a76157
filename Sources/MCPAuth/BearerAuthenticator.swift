import Foundation
import Tracing

/// Turns the `Authorization` header of a request into a `Principal`, or an `AuthFailure`.
///
/// `qmcp_…` tokens are API keys; JWS-shaped tokens are validated as JWT access tokens; anything
/// else goes to token introspection when it is configured. Every attempt is counted in
/// `qlik_mcp_auth_attempts_total{method,outcome}`; an `auth.validate_token` span records each check that
/// does work (signature, JWKS or introspection) and each refusal — not cache hits or matching API
/// keys, whose check costs less than a span (measured: `bench load --auth-compare`).
public struct BearerAuthenticator: Sendable {
    public let jwt: JWTAccessTokenValidator?
    public let introspector: TokenIntrospector?
    public let apiKeys: APIKeyFileVerifier?
    let telemetry: AuthTelemetry

    public init(jwt: JWTAccessTokenValidator?, introspector: TokenIntrospector? = nil, apiKeys: APIKeyFileVerifier?, telemetry: AuthTelemetry = .shared) {
        self.jwt = jwt
        self.introspector = introspector
        self.apiKeys = apiKeys
        self.telemetry = telemetry
    }

    /// `queryToken`: the request carried `access_token` in its URL (refused: RFC 6750 §2.3 is
    /// not supported — URLs end up in logs and browser history).
    public func authenticate(authorization: String?, queryToken: Bool, now: Date = Date()) async -> Result<Principal, AuthFailure> {
        if queryToken {
            return record("none", .failure(.invalidRequest(reason: "token_in_query", description: "access tokens in the URL are refused; send Authorization: Bearer <token>")))
        }
        // No credentials, or credentials of another scheme (`Basic …`): RFC 6750 §3.1 says 401 with
        // the Bearer challenge and no error code — the client was not trying a bearer token.
        guard let authorization, Self.isBearerScheme(authorization) else { return record("none", .failure(.missing)) }
        guard let token = Self.bearerToken(authorization) else {
            return record("none", .failure(.invalidRequest(reason: "malformed", description: "the Authorization header must be 'Bearer <token>'")))
        }
        if token.hasPrefix("qmcp_") {
            guard let apiKeys else {
                return record("apikey", .failure(.invalidToken(reason: "method_not_accepted", description: "this server does not accept API keys (--auth)")))
            }
            // A hash and a compare: a span would cost more than the check, so only refusals get one.
            switch apiKeys.verify(token, now: now) {
            case .success(let identity):
                return record(
                    "apikey",
                    .success(
                        Principal(
                            method: .apikey, subject: "apikey:\(identity.id)", issuer: nil, scopes: identity.scopes,
                            clientID: identity.name)))
            case .failure(let error):
                let reason = error == .unknown ? "unknown_api_key" : error.reason
                return await traced("apikey") { .failure(.invalidToken(reason: reason, description: error.description)) }
            }
        }
        if let jwt, JWTAccessTokenValidator.looksLikeJWT(token) {
            // Tokens validated in the last minute skip the signature check, and the span with it.
            if let hit = await jwt.cached(token, now: now), case .success = hit { return record("oauth", hit) }
            return await traced("oauth") { await jwt.validate(token, now: now) }
        }
        if let introspector {
            return await traced("oauth") { await introspector.validate(token, now: now) }
        }
        let accepted = jwt == nil ? "an API key (qmcp_…)" : "a JWT access token"
        return record(jwt == nil ? "apikey" : "oauth", .failure(.invalidToken(reason: "malformed", description: "the bearer token is not \(accepted)")))
    }

    /// True when the header's scheme is `Bearer` (case-insensitive), however malformed the rest.
    static func isBearerScheme(_ header: String) -> Bool {
        let scheme = header.prefix { $0 != " " }
        return scheme.lowercased() == "bearer"
    }

    /// The token of `Bearer <token68>` (scheme case-insensitive), or nil.
    static func bearerToken(_ header: String) -> String? {
        let parts = header.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1]
        let allowed = token.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || "-._~+/=".utf8.contains(byte)
        }
        return allowed && token.utf8.count <= 16_384 ? String(token) : nil
    }

    private func traced(_ method: String, _ body: () async -> Result<Principal, AuthFailure>) async -> Result<Principal, AuthFailure> {
        await withSpan("auth.validate_token", ofKind: .internal) { span in
            span.attributes["auth.method"] = method
            let result = await body()
            switch result {
            case .success(let principal):
                span.attributes["auth.outcome"] = "ok"
                span.attributes["enduser.pseudo.id"] = principal.pseudonym
            case .failure(let failure):
                span.attributes["auth.outcome"] = failure.reason
            }
            return record(method, result)
        }
    }

    private func record(_ method: String, _ result: Result<Principal, AuthFailure>) -> Result<Principal, AuthFailure> {
        switch result {
        case .success: telemetry.attempt(method: method, outcome: "ok")
        case .failure(let failure): telemetry.attempt(method: method, outcome: failure.reason)
        }
        return result
    }
}
