import Foundation
import QlikTools
import Testing

@testable import MCPAuth

@Suite("Bearer authentication")
struct BearerAuthenticationTests {
    @Test("Authorization header parsing: Bearer token68 only")
    func headerParsing() {
        #expect(BearerAuthenticator.bearerToken("Bearer abc.def-ghi_~+/=") == "abc.def-ghi_~+/=")
        #expect(BearerAuthenticator.bearerToken("bearer abc") == "abc")
        for bad in ["Bearer", "Bearer ", "Basic abc", "Bearer a b", "Bearer a\"b", "Bearer a,b", "abc", "Bearer " + String(repeating: "a", count: 20_000)] {
            #expect(BearerAuthenticator.bearerToken(bad) == nil, "\(bad.prefix(20))")
        }
    }

    @Test("missing, malformed, query-string and unaccepted credentials get their own refusals")
    func refusals() async {
        let apiKeysOnly = BearerAuthenticator(jwt: nil, apiKeys: nil)
        func reason(_ header: String?, query: Bool = false) async -> String? {
            if case .failure(let failure) = await apiKeysOnly.authenticate(authorization: header, queryToken: query) { return failure.reason }
            return nil
        }
        #expect(await reason(nil) == "missing")
        // Another scheme is "no bearer credentials" (RFC 6750 §3.1): 401 with the challenge, no error code.
        #expect(await reason("Basic x") == "missing")
        #expect(await reason("Bearer") == "malformed")
        #expect(await reason("Bearer a b") == "malformed")
        #expect(await reason("Bearer qmcp_x", query: true) == "token_in_query")
        #expect(await reason("Bearer qmcp_000000000000_abc") == "method_not_accepted")
        #expect(await reason("Bearer eyJ.eyJ.sig") == "malformed")
    }

    @Test("challenges: 401 without error code when nothing was sent, error and scopes otherwise, quoted safely")
    func challenges() {
        let metadata = "https://mcp.example/.well-known/oauth-protected-resource/mcp"
        #expect(
            AuthFailure.missing.challenge(resourceMetadata: metadata, defaultScopes: [.read, .data])
                == "Bearer resource_metadata=\"\(metadata)\", scope=\"qlik:read qlik:data\"")
        let step = AuthFailure.insufficientScope(needed: [.read, .write], description: "needs \"qlik:write\"")
        #expect(step.status == 403)
        #expect(
            step.challenge(resourceMetadata: metadata, defaultScopes: [.read])
                == "Bearer error=\"insufficient_scope\", error_description=\"needs \\\"qlik:write\\\"\", resource_metadata=\"\(metadata)\", scope=\"qlik:read qlik:write\"")
        let hostile = AuthFailure.invalidToken(reason: "unknown_key", description: "kid 'a\r\nSet-Cookie: x=1'")
        #expect(!hostile.challenge(resourceMetadata: metadata, defaultScopes: [.read]).contains("\r"))
        #expect(AuthFailure.invalidRequest(reason: "malformed", description: "x").status == 400)
        #expect(AuthFailure.unavailable(description: "x").status == 503)
    }

    @Test("API keys: the key file is re-read when it changes, so a revocation takes effect at once")
    func apiKeyRevocation() throws {
        let store = APIKeyStore(path: FileManager.default.temporaryDirectory.appendingPathComponent("auth-\(UUID().uuidString)/keys.json"))
        let (key, _) = try store.create(name: "svc", scopes: [.read], expiresInDays: nil)
        let verifier = try APIKeyFileVerifier(store: store)
        #expect((try? verifier.verify(key).get())?.name == "svc")
        try store.revoke("svc")
        #expect(verifier.verify(key) == .failure(.revoked))
    }

    @Test("form encoding round-trips and reports repeated parameters")
    func forms() {
        let encoded = FormEncoding.encode([("redirect_uri", "http://127.0.0.1:9/cb?x=1&y=2"), ("scope", "qlik:read qlik:data")])
        let decoded = FormEncoding.decode(encoded + "&scope=again")
        #expect(decoded.values["redirect_uri"] == "http://127.0.0.1:9/cb?x=1&y=2" && decoded.values["scope"] == "qlik:read qlik:data")
        #expect(decoded.repeated == ["scope"])
    }
}
