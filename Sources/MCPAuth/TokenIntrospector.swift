import Crypto
import Foundation
import JSONCore
import QlikTools

/// Where opaque tokens are checked (RFC 7662), and with which client credentials.
public struct IntrospectionConfiguration: Sendable {
    public var endpoint: String
    public var clientID: String
    public var clientSecret: String

    public init(endpoint: String, clientID: String, clientSecret: String) {
        self.endpoint = endpoint
        self.clientID = clientID
        self.clientSecret = clientSecret
    }
}

/// Validates opaque access tokens with the authorization server's introspection endpoint.
/// Answers are cached for at most `cacheTTL` (and never past the token's `exp`) in a `TokenCache`.
public actor TokenIntrospector {
    let configuration: IntrospectionConfiguration
    let audience: String
    let issuer: String?
    let http: OAuthHTTPClient
    let cacheTTL: TimeInterval
    private let cache: TokenCache<Result<Principal, AuthFailure>>

    public init(
        configuration: IntrospectionConfiguration, audience: String, issuer: String?, http: OAuthHTTPClient = OAuthHTTPClient(),
        cacheTTL: TimeInterval = 60, maxEntries: Int = 10_000
    ) {
        self.configuration = configuration
        self.audience = audience
        self.issuer = issuer
        self.http = http
        self.cacheTTL = cacheTTL
        self.cache = TokenCache(capacity: maxEntries, maxAge: cacheTTL)
    }

    public func validate(_ token: String, now: Date = Date()) async -> Result<Principal, AuthFailure> {
        let key = tokenCacheKey(token)
        if let hit = cache.lookup(key, now: now) { return hit }
        let credentials = Data("\(FormEncoding.escape(configuration.clientID)):\(FormEncoding.escape(configuration.clientSecret))".utf8).base64EncodedString()
        let answer: (status: Int, json: JSONValue)
        do {
            answer = try await http.postForm(
                configuration.endpoint, form: [("token", token), ("token_type_hint", "access_token")],
                headers: [("Authorization", "Basic \(credentials)")])
        } catch {
            return .failure(.unavailable(description: "the token could not be introspected (\(error.description)); retry shortly"))
        }
        guard answer.status == 200 else {
            return .failure(.unavailable(description: "the introspection endpoint answered HTTP \(answer.status)"))
        }
        let result = Self.interpret(answer.json, audience: audience, issuer: issuer, now: now)
        let exp = answer.json["exp"]?.doubleValue.map(Date.init(timeIntervalSince1970:))
        cache.store(key, result, until: exp ?? .distantFuture, now: now)
        return result
    }

    static func interpret(_ json: JSONValue, audience: String, issuer: String?, now: Date) -> Result<Principal, AuthFailure> {
        func refuse(_ reason: String, _ text: String) -> Result<Principal, AuthFailure> { .failure(.invalidToken(reason: reason, description: text)) }
        guard json["active"]?.boolValue == true else { return refuse("inactive", "the token is not active (revoked, expired or unknown)") }
        if let exp = json["exp"]?.doubleValue, now.timeIntervalSince1970 > exp { return refuse("expired", "the token has expired") }
        if let issuer, let stated = json["iss"]?.stringValue, stated != issuer { return refuse("wrong_issuer", "the token was issued by another authorization server") }
        guard JWTAccessTokenValidator.audiences(json["aud"]).contains(audience) else { return refuse("wrong_audience", "the token is not for this resource (\(audience))") }
        guard let subject = json["sub"]?.stringValue ?? json["username"]?.stringValue, !subject.isEmpty else {
            return refuse("malformed", "the introspection answer names no subject")
        }
        let claims = json.objectValue ?? [:]
        return .success(
            Principal(
                method: .oauth, subject: subject, issuer: issuer ?? json["iss"]?.stringValue,
                scopes: JWTAccessTokenValidator.scopes(claims), clientID: json["client_id"]?.stringValue,
                claims: JWTAccessTokenValidator.identityClaims(claims)))
    }
}
