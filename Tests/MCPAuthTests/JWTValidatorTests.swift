import Crypto
import Foundation
import JSONCore
import JWTKit
import QlikTools
import Testing

@testable import MCPAuth

/// Signs test tokens with real keys (jwt-kit), so the validator sees what an authorization server sends.
struct TokenFactory {
    let es256 = P256.Signing.PrivateKey()
    let issuer = "https://as.example"
    let audience = "https://mcp.example/mcp"

    var jwk: JSONValue { SessionTokenIssuer.publicJWK(es256.publicKey) }
    var kid: String { jwk["kid"]?.stringValue ?? "" }

    func validator(leeway: TimeInterval = 60) async -> JWTAccessTokenValidator {
        let key = await VerificationKey.make(jwk: jwk, fallbackKid: nil)!
        return JWTAccessTokenValidator(issuer: issuer, audience: audience, keys: StaticKeySource(keys: [key]), leeway: leeway)
    }

    func token(_ overrides: [String: JSONValue?] = [:], kid: String? = nil, key: P256.Signing.PrivateKey? = nil) async throws -> String {
        let now = Date().timeIntervalSince1970.rounded(.down)
        var claims: [String: JSONValue] = [
            "iss": .string(issuer), "sub": "user-1", "aud": .string(audience), "exp": .number(now + 300),
            "iat": .number(now), "scope": "qlik:read qlik:data",
        ]
        for (name, value) in overrides { claims[name] = value ?? nil }
        claims = claims.filter { $0.value != .null }
        let collection = JWTKeyCollection()
        await collection.add(ecdsa: try ES256PrivateKey(backing: key ?? es256), kid: JWKIdentifier(string: kid ?? self.kid))
        return try await collection.sign(ClaimSet(claims: claims), kid: JWKIdentifier(string: kid ?? self.kid))
    }
}

@Suite("JWT access token validation")
struct JWTValidatorTests {
    let factory = TokenFactory()

    func reason(_ result: Result<Principal, AuthFailure>) -> String? {
        if case .failure(let failure) = result { return failure.reason }
        return nil
    }

    @Test("a valid token gives its subject, issuer and the qlik scopes it names (unknown scopes ignored)")
    func valid() async throws {
        let token = try await factory.token(["scope": "qlik:read openid qlik:data other"])
        let principal = try await factory.validator().validate(token).get()
        #expect(principal.subject == "user-1" && principal.issuer == factory.issuer && principal.scopes == [.read, .data])
        #expect(principal.pseudonym.count == 16 && !principal.pseudonym.contains("user"))
    }

    @Test("exp, nbf and iat hold within the leeway and not beyond it")
    func timeClaims() async throws {
        let now = Date().timeIntervalSince1970
        let validator = await factory.validator(leeway: 60)
        #expect(reason(await validator.validate(try await factory.token(["exp": .number(now - 30)]))) == nil)
        #expect(reason(await validator.validate(try await factory.token(["exp": .number(now - 120)]))) == "expired")
        #expect(reason(await validator.validate(try await factory.token(["nbf": .number(now + 30)]))) == nil)
        #expect(reason(await validator.validate(try await factory.token(["nbf": .number(now + 600)]))) == "not_yet_valid")
        #expect(reason(await validator.validate(try await factory.token(["iat": .number(now + 600)]))) == "not_yet_valid")
        #expect(reason(await validator.validate(try await factory.token(["exp": nil]))) == "malformed")
    }

    @Test("issuer must match exactly; audience must name this resource (string or array)")
    func issuerAndAudience() async throws {
        let validator = await factory.validator()
        #expect(reason(await validator.validate(try await factory.token(["iss": "https://as.example/"]))) == "wrong_issuer")
        #expect(reason(await validator.validate(try await factory.token(["iss": "https://evil.example"]))) == "wrong_issuer")
        #expect(reason(await validator.validate(try await factory.token(["aud": "https://other.example/mcp"]))) == "wrong_audience")
        #expect(reason(await validator.validate(try await factory.token(["aud": nil]))) == "wrong_audience")
        #expect(reason(await validator.validate(try await factory.token(["aud": ["https://other.example", .string(factory.audience)]]))) == nil)
        #expect(reason(await validator.validate(try await factory.token(["sub": nil]))) == "malformed")
    }

    @Test("alg none, HS256 with the public key and an algorithm that does not fit the key are refused before any signature check")
    func algorithms() async throws {
        let validator = await factory.validator()
        let good = try await factory.token()
        let parts = good.split(separator: ".").map(String.init)
        func header(_ value: JSONValue) -> String { Base64URL.encode(Array(JSONCoding.serialize(value).utf8)) }
        let none = header(["alg": "none", "kid": .string(factory.kid)]) + "." + parts[1] + "."
        #expect(reason(await validator.validate(none)) == "alg_not_allowed")
        let publicPEM = Data(factory.es256.publicKey.pemRepresentation.utf8)
        let hsInput = header(["alg": "HS256", "kid": .string(factory.kid)]) + "." + parts[1]
        let mac = HMAC<SHA256>.authenticationCode(for: Data(hsInput.utf8), using: SymmetricKey(data: publicPEM))
        #expect(reason(await validator.validate(hsInput + "." + Base64URL.encode(Array(mac)))) == "alg_not_allowed")
        let rs = header(["alg": "RS256", "kid": .string(factory.kid)]) + "." + parts[1] + "." + parts[2]
        #expect(reason(await validator.validate(rs)) == "alg_not_allowed")  // allowed algorithm, wrong key type
        let crit = header(["alg": "ES256", "kid": .string(factory.kid), "crit": ["exp"]]) + "." + parts[1] + "." + parts[2]
        #expect(reason(await validator.validate(crit)) == "malformed")
    }

    @Test("unknown kid, a forged signature, tampered claims and garbage are refused")
    func signatures() async throws {
        let validator = await factory.validator()
        #expect(reason(await validator.validate(try await factory.token(kid: "rogue", key: P256.Signing.PrivateKey()))) == "unknown_key")
        #expect(reason(await validator.validate(try await factory.token(key: P256.Signing.PrivateKey()))) == "bad_signature")
        let parts = try await factory.token().split(separator: ".").map(String.init)
        var claims = try #require(JSONCoding.parse(Base64URL.decode(parts[1])!).objectValue)
        claims["scope"] = "qlik:read qlik:data qlik:write qlik:admin"
        let tampered = parts[0] + "." + Base64URL.encode(Array(JSONCoding.serialize(.object(claims)).utf8)) + "." + parts[2]
        #expect(reason(await validator.validate(tampered)) == "bad_signature")
        for garbage in ["", "a.b", "a.b.c", "....", String(repeating: "x", count: 20_000)] {
            #expect(reason(await validator.validate(garbage)) == "malformed")
        }
    }

    @Test("revoked grant families are refused")
    func revokedFamily() async throws {
        let key = await VerificationKey.make(jwk: factory.jwk, fallbackKid: nil)!
        let validator = JWTAccessTokenValidator(
            issuer: factory.issuer, audience: factory.audience, keys: StaticKeySource(keys: [key]),
            isRevokedFamily: { $0 == "fam-revoked" })
        #expect(reason(await validator.validate(try await factory.token(["fam": "fam-revoked"]))) == "revoked")
        #expect(reason(await validator.validate(try await factory.token(["fam": "fam-ok"]))) == nil)
    }

    @Test("the validated-token cache: hits skip the signature check but never outlive exp, and revocation still applies")
    func cache() async throws {
        let key = await VerificationKey.make(jwk: factory.jwk, fallbackKid: nil)!
        let revoked = RevokedSet()
        let validator = JWTAccessTokenValidator(
            issuer: factory.issuer, audience: factory.audience, keys: StaticKeySource(keys: [key]),
            isRevokedFamily: { await revoked.contains($0) }, cacheValidated: true)
        let now = Date()
        let token = try await factory.token(["fam": "f1", "exp": .number(now.timeIntervalSince1970 + 30)])
        #expect(reason(await validator.validate(token, now: now)) == nil)
        #expect(reason(await validator.validate(token, now: now.addingTimeInterval(1))) == nil)
        #expect(reason(await validator.validate(token, now: now.addingTimeInterval(120))) == "expired")
        await revoked.insert("f1")
        #expect(reason(await validator.validate(token, now: now)) == "revoked")
        #expect(reason(await validator.validate(try await factory.token(key: P256.Signing.PrivateKey()), now: now)) == "bad_signature")
    }

    @Test("Entra's scp claim (string or array) is read as scopes")
    func scpClaim() {
        #expect(JWTAccessTokenValidator.scopes(["scp": "qlik:read qlik:write"]) == [.read, .write])
        #expect(JWTAccessTokenValidator.scopes(["scp": ["qlik:admin", "User.Read"]]) == [.admin])
        #expect(JWTAccessTokenValidator.scopes([:]) == [])
    }
}

actor RevokedSet {
    private var families: Set<String> = []
    func insert(_ family: String) { families.insert(family) }
    func contains(_ family: String) -> Bool { families.contains(family) }
}
