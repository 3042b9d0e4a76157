import Crypto
import Foundation
import JSONCore
import JWTKit

/// Mints this server's own access tokens (proxy mode): short-lived ES256 JWTs (`typ: at+jwt`,
/// RFC 9068) whose `aud` is this server, carrying the upstream identity and the granted scopes.
///
/// Keys come from PEM files (EC P-256 private keys, e.g. `openssl ecparam -name prime256v1 -genkey
/// -noout -out key.pem`): the first signs, the others are only published and accepted — rotation
/// is "put the new key first, keep the old one second until its tokens have expired". Each key's
/// `kid` is its RFC 7638 thumbprint.
public struct SessionTokenIssuer: Sendable {
    public struct KeyError: Error, CustomStringConvertible {
        public let description: String
    }

    public let issuer: String
    public let audience: String
    public let lifetime: TimeInterval
    let signingKid: String
    let signing: JWTKeyCollection
    /// The public keys, as a JWKS document (`/oauth/jwks`).
    public let jwks: JSONValue
    public let verificationKeys: StaticKeySource
    /// True when the key was generated at start-up (tokens do not survive a restart).
    public let ephemeral: Bool

    public static func load(pemFiles: [String], issuer: String, audience: String, lifetime: TimeInterval) async throws(KeyError) -> SessionTokenIssuer {
        var keys: [P256.Signing.PrivateKey] = []
        for path in pemFiles {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw KeyError(description: "cannot read the signing key file \(path)") }
            guard let key = try? P256.Signing.PrivateKey(pemRepresentation: text) else {
                throw KeyError(description: "\(path) is not an EC P-256 private key in PEM (make one with: openssl ecparam -name prime256v1 -genkey -noout -out \(path))")
            }
            keys.append(key)
        }
        let ephemeral = keys.isEmpty
        if ephemeral { keys = [P256.Signing.PrivateKey()] }
        return try await make(keys: keys, issuer: issuer, audience: audience, lifetime: lifetime, ephemeral: ephemeral)
    }

    static func make(keys: [P256.Signing.PrivateKey], issuer: String, audience: String, lifetime: TimeInterval, ephemeral: Bool) async throws(KeyError) -> SessionTokenIssuer {
        var published: [JSONValue] = []
        var verification: [VerificationKey] = []
        for key in keys {
            let jwk = publicJWK(key.publicKey)
            published.append(jwk)
            guard let verifier = await VerificationKey.make(jwk: jwk, fallbackKid: nil) else { throw KeyError(description: "could not use a signing key") }
            verification.append(verifier)
        }
        let kid = published[0]["kid"]?.stringValue ?? ""
        let signing = JWTKeyCollection()
        do {
            await signing.add(ecdsa: try ES256PrivateKey(backing: keys[0]), kid: JWKIdentifier(string: kid))
        } catch {
            throw KeyError(description: "could not load the signing key: \(error)")
        }
        return SessionTokenIssuer(
            issuer: issuer, audience: audience, lifetime: lifetime, signingKid: kid, signing: signing,
            jwks: ["keys": .array(published)], verificationKeys: StaticKeySource(keys: verification), ephemeral: ephemeral)
    }

    /// The public JWK of a P-256 key, `kid` = RFC 7638 thumbprint.
    static func publicJWK(_ key: P256.Signing.PublicKey) -> JSONValue {
        let point = Array(key.x963Representation)
        let x = Base64URL.encode(point[1..<33])
        let y = Base64URL.encode(point[33..<65])
        let canonical = "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"\(x)\",\"y\":\"\(y)\"}"
        let kid = Base64URL.encode(SHA256.hash(data: Data(canonical.utf8)))
        return ["kty": "EC", "crv": "P-256", "x": .string(x), "y": .string(y), "kid": .string(kid), "alg": "ES256", "use": "sig"]
    }

    /// A signed access token and its lifetime in seconds.
    public func mint(subject: String, scopes: [String], clientID: String, family: String, claims: [String: String], now: Date = Date()) async throws -> (token: String, expiresIn: Int) {
        let issuedAt = now.timeIntervalSince1970.rounded(.down)
        var payload: [String: JSONValue] = [
            "iss": .string(issuer), "sub": .string(subject), "aud": .string(audience), "iat": .number(issuedAt), "nbf": .number(issuedAt),
            "exp": .number(issuedAt + lifetime), "jti": .string(OAuthSecrets.token(bytes: 16)), "scope": .string(scopes.joined(separator: " ")),
            "client_id": .string(clientID), "fam": .string(family),
        ]
        for (name, value) in claims where payload[name] == nil { payload[name] = .string(value) }
        var header = JWTHeader()
        header.typ = "at+jwt"
        let token = try await signing.sign(ClaimSet(claims: payload), kid: JWKIdentifier(string: signingKid), header: header)
        return (token, Int(lifetime))
    }
}

/// A JWT payload of arbitrary claims.
struct ClaimSet: JWTPayload {
    let claims: [String: JSONValue]

    init(claims: [String: JSONValue]) {
        self.claims = claims
    }

    init(from decoder: any Decoder) throws {
        claims = try decoder.singleValueContainer().decode([String: JSONValue].self)
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(claims)
    }

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
