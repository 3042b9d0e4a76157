import Foundation
import JSONCore
import QlikTools

/// Validates JWT access tokens (RFC 9068 profile): the header's `alg` is on an allow-list and fits
/// the key named by `kid`, the signature verifies (jwt-kit), `iss` is the expected issuer, `exp`
/// and `nbf` hold within a small leeway, and `aud` names this server (RFC 8707) — a token minted
/// for another resource is refused. Every refusal carries a bounded reason.
public struct JWTAccessTokenValidator: Sendable {
    public let issuer: String
    public let audience: String
    public let keys: any VerificationKeySource
    public let allowedAlgorithms: Set<String>
    public let leeway: TimeInterval
    /// Other spellings of the issuer that tokens may carry (Google: `accounts.google.com`).
    public let alsoAcceptedIssuers: Set<String>
    /// Extra check on a token's `fam` claim (tokens this server issued: revoked grant families).
    let isRevokedFamily: (@Sendable (String) async -> Bool)?
    /// Tokens validated in the last minute (never past `exp`; the grant family is still checked on
    /// a hit, and a key dropped by the issuer is noticed within that minute). nil: every request is
    /// checked in full.
    let cache: TokenCache<(principal: Principal, family: String?)>?

    public static let defaultAlgorithms: Set<String> = ["RS256", "ES256", "EdDSA"]
    static let maxTokenBytes = 16 * 1024

    public init(
        issuer: String, audience: String, keys: any VerificationKeySource, allowedAlgorithms: Set<String> = defaultAlgorithms,
        leeway: TimeInterval = 60, alsoAcceptedIssuers: Set<String> = [], isRevokedFamily: (@Sendable (String) async -> Bool)? = nil,
        cacheValidated: Bool = false
    ) {
        self.cache = cacheValidated ? TokenCache() : nil
        self.issuer = issuer
        self.alsoAcceptedIssuers = alsoAcceptedIssuers
        self.audience = audience
        self.keys = keys
        self.allowedAlgorithms = allowedAlgorithms.subtracting(["none", "HS256", "HS384", "HS512"])
        self.leeway = leeway
        self.isRevokedFamily = isRevokedFamily
    }

    /// Whether `token` is shaped like a JWS (three base64url parts).
    public static func looksLikeJWT(_ token: String) -> Bool {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 3 && !parts[0].isEmpty && !parts[1].isEmpty
    }

    public func validate(_ token: String, now: Date = Date()) async -> Result<Principal, AuthFailure> {
        if let hit = await cached(token, now: now) { return hit }
        let result = await check(token, now: now)
        if let cache, case .success(let valid) = result {
            cache.store(tokenCacheKey(token), (valid.principal, valid.family), until: valid.expires, now: now)
        }
        return result.map(\.principal)
    }

    /// The answer for a token validated within the last minute (its grant family checked again),
    /// or nil when it must be checked in full.
    public func cached(_ token: String, now: Date = Date()) async -> Result<Principal, AuthFailure>? {
        guard let cache, let hit = cache.lookup(tokenCacheKey(token), now: now) else { return nil }
        if let family = hit.family, let isRevokedFamily, await isRevokedFamily(family) {
            return .failure(.invalidToken(reason: "revoked", description: "the grant this token came from has been revoked"))
        }
        return .success(hit.principal)
    }

    /// The full check: header, key, signature, claims.
    private func check(_ token: String, now: Date) async -> Result<(principal: Principal, family: String?, expires: Date), AuthFailure> {
        func refuse(_ reason: String, _ text: String) -> Result<(principal: Principal, family: String?, expires: Date), AuthFailure> {
            .failure(.invalidToken(reason: reason, description: text))
        }
        guard token.utf8.count <= Self.maxTokenBytes else { return refuse("malformed", "the token is larger than 16 KiB") }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, let header = Self.decodeSegment(parts[0])?.objectValue, let claims = Self.decodeSegment(parts[1])?.objectValue else {
            return refuse("malformed", "the token is not a JWT (header.payload.signature, base64url JSON)")
        }
        guard let alg = header["alg"]?.stringValue, allowedAlgorithms.contains(alg) else {
            return refuse("alg_not_allowed", "the token's algorithm '\(header["alg"]?.stringValue ?? "none")' is not accepted; use \(allowedAlgorithms.sorted().joined(separator: ", "))")
        }
        if header["crit"] != nil { return refuse("malformed", "tokens with critical header parameters are not accepted") }
        let kid = header["kid"]?.stringValue
        let key: VerificationKey?
        do {
            key = try await keys.key(kid: kid)
        } catch {
            return .failure(error)
        }
        guard let key else { return refuse("unknown_key", "the token's signing key (kid '\(kid?.prefix(64) ?? "none")') is not one of the issuer's keys") }
        guard key.accepts(algorithm: alg) else { return refuse("alg_not_allowed", "the algorithm \(alg) does not fit the key '\(key.kid.prefix(64))'") }
        guard await key.verifySignature(token) else { return refuse("bad_signature", "the token's signature does not verify") }

        guard let stated = claims["iss"]?.stringValue, stated == issuer || alsoAcceptedIssuers.contains(stated) else {
            return refuse("wrong_issuer", "the token was issued by another authorization server")
        }
        let time = now.timeIntervalSince1970
        guard let exp = claims["exp"]?.doubleValue else { return refuse("malformed", "the token has no exp claim") }
        guard time <= exp + leeway else { return refuse("expired", "the token has expired; get a new one (refresh it)") }
        if let nbf = claims["nbf"]?.doubleValue, time + leeway < nbf { return refuse("not_yet_valid", "the token is not valid yet (nbf)") }
        if let iat = claims["iat"]?.doubleValue, time + leeway < iat { return refuse("not_yet_valid", "the token was issued in the future (iat)") }
        guard Self.audiences(claims["aud"]).contains(audience) else {
            return refuse("wrong_audience", "the token is for another resource; ask for a token with resource=\(audience)")
        }
        guard let subject = claims["sub"]?.stringValue, !subject.isEmpty, subject.count <= 256 else {
            return refuse("malformed", "the token has no usable sub claim")
        }
        let family = claims["fam"]?.stringValue
        if let family, let isRevokedFamily, await isRevokedFamily(family) {
            return refuse("revoked", "the grant this token came from has been revoked")
        }
        let principal = Principal(
            method: .oauth, subject: subject, issuer: issuer, scopes: Self.scopes(claims),
            clientID: claims["client_id"]?.stringValue ?? claims["azp"]?.stringValue, claims: Self.identityClaims(claims))
        return .success((principal, family, Date(timeIntervalSince1970: exp + leeway)))
    }

    /// `aud` as a list: a string or an array of strings (RFC 7519 §4.1.3).
    static func audiences(_ value: JSONValue?) -> [String] {
        guard let value else { return [] }
        return value.arrayValue?.compactMap(\.stringValue) ?? [value.stringValue].compactMap { $0 }
    }

    /// `scope` (space-separated, RFC 9068) or `scp` (Entra: string or array); unknown scopes are ignored.
    static func scopes(_ claims: [String: JSONValue]) -> Set<QlikScope> {
        var names: [String] = []
        for key in ["scope", "scp"] {
            if let text = claims[key]?.stringValue { names += text.split(separator: " ").map(String.init) }
            if let list = claims[key]?.arrayValue { names += list.compactMap(\.stringValue) }
        }
        return Set(names.compactMap(QlikScope.init(rawValue:)))
    }

    /// String claims that can name a user (for the Qlik identity mapping): at most 32, each ≤ 256 characters.
    static func identityClaims(_ claims: [String: JSONValue]) -> [String: String] {
        var out: [String: String] = [:]
        for (name, value) in claims where out.count < 32 {
            guard let text = value.stringValue, text.count <= 256, name.count <= 64,
                !["iss", "aud", "exp", "nbf", "iat", "jti", "scope", "scp", "fam"].contains(name)
            else { continue }
            out[name] = text
        }
        return out
    }

    static func decodeSegment(_ segment: String) -> JSONValue? {
        guard let data = Base64URL.decode(segment) else { return nil }
        return try? JSONCoding.parse(data)
    }
}

/// base64url without padding (RFC 7515 §2).
public enum Base64URL {
    public static func encode<D: Sequence>(_ bytes: D) -> String where D.Element == UInt8 {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    public static func decode(_ text: String) -> Data? {
        guard text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else { return nil }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Data(base64Encoded: base64)
    }
}
