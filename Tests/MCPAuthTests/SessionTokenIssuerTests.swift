import Crypto
import Foundation
import JSONCore
import Testing

@testable import MCPAuth

@Suite("Session token signing keys")
struct SessionTokenIssuerTests {
    let issuer = "https://mcp.example/oauth", audience = "https://mcp.example/mcp"

    func principal(_ token: String, _ tokens: SessionTokenIssuer) async -> Result<Principal, AuthFailure> {
        await JWTAccessTokenValidator(issuer: issuer, audience: audience, keys: tokens.verificationKeys, allowedAlgorithms: ["ES256"]).validate(token)
    }

    @Test("rotation: the new key signs, tokens of the old key stay valid while it is listed second, and not after")
    func rotation() async throws {
        let old = P256.Signing.PrivateKey()
        let new = P256.Signing.PrivateKey()
        let before = try await SessionTokenIssuer.make(keys: [old], issuer: issuer, audience: audience, lifetime: 600, ephemeral: false)
        let during = try await SessionTokenIssuer.make(keys: [new, old], issuer: issuer, audience: audience, lifetime: 600, ephemeral: false)
        let after = try await SessionTokenIssuer.make(keys: [new], issuer: issuer, audience: audience, lifetime: 600, ephemeral: false)
        let oldToken = try await before.mint(subject: "u", scopes: ["qlik:read"], clientID: "c", family: "f", claims: [:]).token
        let newToken = try await during.mint(subject: "u", scopes: ["qlik:read"], clientID: "c", family: "f", claims: [:]).token
        #expect((try? await principal(oldToken, during).get()) != nil)
        #expect((try? await principal(newToken, after).get()) != nil)
        if case .failure(let failure) = await principal(oldToken, after) { #expect(failure.reason == "unknown_key") } else { Issue.record("old key still accepted") }
        #expect(during.jwks["keys"]?.arrayValue?.count == 2)
        #expect(during.jwks["keys"]?[0]?["kid"] != during.jwks["keys"]?[1]?["kid"])
        #expect(JSONCoding.serialize(during.jwks).contains("\"d\"") == false)  // public keys only
    }

    @Test("tokens are at+jwt with the claims the resource side needs; PEM files load, other files are refused")
    func claimsAndFiles() async throws {
        let key = P256.Signing.PrivateKey()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sig-\(UUID().uuidString).pem")
        try key.pemRepresentation.write(to: path, atomically: true, encoding: .utf8)
        let tokens = try await SessionTokenIssuer.load(pemFiles: [path.path], issuer: issuer, audience: audience, lifetime: 300)
        #expect(!tokens.ephemeral)
        let (token, expiresIn) = try await tokens.mint(
            subject: "github|1", scopes: ["qlik:read", "qlik:data"], clientID: "mcp_x", family: "fam",
            claims: ["preferred_username": "octo", "iss": "https://evil.example"])
        #expect(expiresIn == 300)
        let header = try #require(JWTAccessTokenValidator.decodeSegment(String(token.split(separator: ".")[0])))
        #expect(header["typ"] == "at+jwt" && header["alg"] == "ES256")
        let principal = try await principal(token, tokens).get()
        #expect(principal.subject == "github|1" && principal.scopes == [.read, .data] && principal.clientID == "mcp_x")
        #expect(principal.claims["preferred_username"] == "octo")  // upstream claims never override iss/aud/sub
        let bad = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString).pem")
        try "not a key".write(to: bad, atomically: true, encoding: .utf8)
        await #expect(throws: SessionTokenIssuer.KeyError.self) { try await SessionTokenIssuer.load(pemFiles: [bad.path], issuer: issuer, audience: audience, lifetime: 300) }
    }
}
