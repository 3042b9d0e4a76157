import Crypto
import Foundation
import JSONCore
import Logging
import QlikTools
import Testing

@testable import MCPAuth

/// The authorization-server proxy in process: registration rules, authorization checks, and the
/// token endpoint's single-use codes and refresh rotation (codes are placed in the store directly,
/// as the upstream callback would).
@Suite("OAuth proxy")
struct OAuthProxyTests {
    let store = InMemoryAuthStateStore()

    func makeProxy() async throws -> OAuthProxy {
        let configuration = OAuthProxy.Configuration(
            publicURL: "https://mcp.example", resource: "https://mcp.example/mcp", audience: "https://mcp.example/mcp",
            upstream: .init(preset: .github, clientID: "id", clientSecret: "secret"))
        let tokens = try await SessionTokenIssuer.make(
            keys: [P256.Signing.PrivateKey()], issuer: configuration.issuer, audience: configuration.audience,
            lifetime: 600, ephemeral: true)
        return OAuthProxy(configuration: configuration, tokens: tokens, store: store, logger: Logger(label: "test"))
    }

    func json(_ reply: OAuthReply) -> JSONValue { (try? JSONCoding.parse(reply.body)) ?? .null }

    func registered(_ proxy: OAuthProxy, _ redirect: String = "http://127.0.0.1/cb", method: String = "none") async throws -> String {
        let body = JSONCoding.serialize(["redirect_uris": [.string(redirect)], "client_name": "<b>Evil</b>", "token_endpoint_auth_method": .string(method)])
        let reply = await proxy.register(Data(body.utf8))
        #expect(reply.status == 201)
        return try #require(json(reply)["client_id"]?.stringValue)
    }

    /// A code as `/oauth/callback` would have issued it, for `verifier`.
    func code(_ proxy: OAuthProxy, client: String, redirect: String = "http://127.0.0.1/cb", verifier: String) async throws -> String {
        let code = OAuthSecrets.token()
        let issued = IssuedCode(
            clientID: client, redirectURI: redirect, codeChallenge: OAuthSecrets.challenge(forVerifier: verifier), scopes: ["qlik:read"],
            identity: UpstreamIdentity(subject: "github|42", claims: ["preferred_username": "octo"]), family: OAuthSecrets.token(bytes: 16))
        try await proxy.store.put(issued, ProxyNamespace.code, OAuthSecrets.digest(code), ttl: .seconds(60))
        return code
    }

    func exchange(_ proxy: OAuthProxy, client: String, code: String, verifier: String, redirect: String = "http://127.0.0.1/cb") async -> OAuthReply {
        await proxy.token(
            form: ["grant_type": "authorization_code", "client_id": client, "code": code, "code_verifier": verifier, "redirect_uri": redirect],
            repeated: [], basic: nil)
    }

    @Test("registration: https or loopback redirect URIs only; the metadata answer echoes what was registered")
    func registration() async throws {
        let proxy = try await makeProxy()
        for (uri, ok) in [
            ("https://app.example/cb", true), ("http://localhost:8080/cb", true), ("http://127.0.0.1/cb", true),
            ("http://app.example/cb", false), ("javascript:alert(1)", false), ("https://user:pw@app.example/cb", false),
            ("https://app.example/cb#x", false), ("app://cb", false),
        ] {
            let reply = await proxy.register(Data(JSONCoding.serialize(["redirect_uris": [.string(uri)]]).utf8))
            #expect((reply.status == 201) == ok, "\(uri)")
        }
        let bad = await proxy.register(Data("{\"redirect_uris\":[\"https://a.example/cb\"],\"grant_types\":[\"password\"]}".utf8))
        #expect(bad.status == 400 && json(bad)["error"] == "invalid_client_metadata")
        let confidential = await proxy.register(Data(JSONCoding.serialize(["redirect_uris": ["https://a.example/cb"], "token_endpoint_auth_method": "client_secret_post"]).utf8))
        #expect(json(confidential)["client_secret"]?.stringValue?.count == 43)
    }

    @Test("loopback redirect URIs match on any port; others exactly")
    func redirectMatching() {
        #expect(RedirectURIPolicy.matches("http://127.0.0.1:5555/cb", registered: ["http://127.0.0.1/cb"]))
        #expect(!RedirectURIPolicy.matches("http://127.0.0.1:5555/other", registered: ["http://127.0.0.1/cb"]))
        #expect(!RedirectURIPolicy.matches("https://app.example/cb/", registered: ["https://app.example/cb"]))
        #expect(!RedirectURIPolicy.matches("https://app.example:444/cb", registered: ["https://app.example/cb"]))
    }

    @Test("authorize: unknown clients and unregistered redirect URIs are shown, never redirected; the consent page escapes the client name")
    func authorize() async throws {
        let proxy = try await makeProxy()
        let client = try await registered(proxy)
        let challenge = OAuthSecrets.challenge(forVerifier: OAuthSecrets.token())
        let base = [
            "response_type": "code", "client_id": client, "redirect_uri": "http://127.0.0.1:7000/cb", "code_challenge": challenge,
            "code_challenge_method": "S256", "state": "s",
        ]
        let ok = await proxy.authorize(base)
        let page = String(decoding: ok.body, as: UTF8.self)
        #expect(ok.status == 200 && page.contains("&lt;b&gt;Evil&lt;/b&gt;") && !page.contains("<b>Evil"))
        #expect(ok.headers.contains { $0.0 == "Set-Cookie" && $0.1.contains("HttpOnly") && $0.1.contains("Secure") })
        #expect(ok.headers.contains { $0.0 == "X-Frame-Options" && $0.1 == "DENY" })
        var unknown = base
        unknown["client_id"] = "mcp_nope"
        #expect(await proxy.authorize(unknown).status == 400)
        var wrongRedirect = base
        wrongRedirect["redirect_uri"] = "https://attacker.example/cb"
        let refused = await proxy.authorize(wrongRedirect)
        #expect(refused.status == 400 && !refused.headers.contains { $0.0 == "Location" })
        var plain = base
        plain["code_challenge_method"] = "plain"
        let noPKCE = await proxy.authorize(plain)
        #expect(noPKCE.status == 302 && noPKCE.headers.first { $0.0 == "Location" }?.1.contains("error=invalid_request") == true)
        var scope = base
        scope["scope"] = "qlik:read qlik:root"
        #expect(await proxy.authorize(scope).headers.first { $0.0 == "Location" }?.1.contains("error=invalid_scope") == true)
    }

    @Test("consent needs the browser cookie of the page; a transaction works once")
    func consentBinding() async throws {
        let proxy = try await makeProxy()
        let client = try await registered(proxy)
        let ok = await proxy.authorize([
            "response_type": "code", "client_id": client, "code_challenge": OAuthSecrets.challenge(forVerifier: OAuthSecrets.token()),
            "code_challenge_method": "S256",
        ])
        let page = String(decoding: ok.body, as: UTF8.self)
        let transaction = try #require(page.range(of: "name=\"transaction\" value=\"").map { String(page[$0.upperBound...].prefix(43)) })
        let refused = await proxy.consent(form: ["transaction": transaction, "decision": "approve"], cookie: "not-the-cookie")
        #expect(refused.status == 400)
        let again = await proxy.consent(form: ["transaction": transaction, "decision": "deny"], cookie: "x")
        #expect(again.status == 400)  // consumed by the first attempt
    }

    @Test("code exchange: PKCE verified, code single-use, replay revokes the tokens it produced")
    func codeReplay() async throws {
        let proxy = try await makeProxy()
        let client = try await registered(proxy)
        let verifier = OAuthSecrets.token()
        let wrong = await exchange(proxy, client: client, code: try await code(proxy, client: client, verifier: verifier), verifier: OAuthSecrets.token())
        #expect(wrong.status == 400 && json(wrong)["error"] == "invalid_grant")
        let good = try await code(proxy, client: client, verifier: verifier)
        let first = await exchange(proxy, client: client, code: good, verifier: verifier)
        #expect(first.status == 200 && json(first)["token_type"] == "Bearer" && json(first)["expires_in"] == 600)
        let access = try #require(json(first)["access_token"]?.stringValue)
        let validator = JWTAccessTokenValidator(
            issuer: proxy.configuration.issuer, audience: proxy.configuration.audience, keys: proxy.tokens.verificationKeys,
            isRevokedFamily: { await proxy.isRevoked(family: $0) })
        let principal = try await validator.validate(access).get()
        #expect(principal.subject == "github|42" && principal.scopes == [.read] && principal.claims["preferred_username"] == "octo")
        let replay = await exchange(proxy, client: client, code: good, verifier: verifier)
        #expect(replay.status == 400 && json(replay)["error"] == "invalid_grant")
        if case .failure(let failure) = await validator.validate(access) { #expect(failure.reason == "revoked") } else { Issue.record("still valid") }
    }

    @Test("refresh: rotation issues a new token; reusing a rotated one revokes the family")
    func refreshRotation() async throws {
        let proxy = try await makeProxy()
        let client = try await registered(proxy)
        let verifier = OAuthSecrets.token()
        let first = json(await exchange(proxy, client: client, code: try await code(proxy, client: client, verifier: verifier), verifier: verifier))
        let r1 = try #require(first["refresh_token"]?.stringValue)
        func refresh(_ token: String, scope: String? = nil) async -> OAuthReply {
            var form = ["grant_type": "refresh_token", "client_id": client, "refresh_token": token]
            form["scope"] = scope
            return await proxy.token(form: form, repeated: [], basic: nil)
        }
        #expect(await refresh(r1, scope: "qlik:read qlik:admin").status == 400)  // widening is refused
        let second = await refresh(r1)
        let r2 = try #require(json(second)["refresh_token"]?.stringValue)
        #expect(second.status == 200 && r2 != r1)
        #expect(json(await refresh(r1))["error"] == "invalid_grant")
        #expect(json(await refresh(r2))["error"] == "invalid_grant")
        let other = try await registered(proxy, "https://b.example/cb")
        #expect(await proxy.token(form: ["grant_type": "refresh_token", "client_id": other, "refresh_token": r2], repeated: [], basic: nil).status == 400)
    }

    @Test("confidential clients must authenticate; repeated parameters are refused")
    func clientAuthentication() async throws {
        let proxy = try await makeProxy()
        let client = try await registered(proxy, "https://c.example/cb", method: "client_secret_basic")
        let noSecret = await proxy.token(
            form: ["grant_type": "authorization_code", "client_id": client, "code": "x", "code_verifier": "y", "redirect_uri": "z"],
            repeated: [], basic: nil)
        #expect(noSecret.status == 401 && json(noSecret)["error"] == "invalid_client")
        let wrong = await proxy.token(form: ["grant_type": "authorization_code"], repeated: [], basic: (client, "wrong"))
        #expect(wrong.status == 401 && wrong.headers.contains { $0.0 == "WWW-Authenticate" })
        #expect(await proxy.token(form: ["grant_type": "authorization_code"], repeated: ["code"], basic: nil).status == 400)
    }

    @Test("the state store is bounded per namespace, expires entries, and take is one-time")
    func stateStore() async throws {
        let store = InMemoryAuthStateStore(limits: ["n": 2])
        try await store.put(Data([1]), namespace: "n", key: "a", ttl: .seconds(60))
        try await store.put(Data([2]), namespace: "n", key: "b", ttl: .milliseconds(1))
        await #expect(throws: AuthStateStoreError.self) { try await store.put(Data([3]), namespace: "n", key: "c", ttl: .seconds(60)) }
        try await Task.sleep(for: .milliseconds(5))  // lets the 1 ms entry expire: the clock, not synchronisation
        try await store.put(Data([3]), namespace: "n", key: "c", ttl: .seconds(60))
        #expect(await store.take(namespace: "n", key: "a") == Data([1]))
        #expect(await store.take(namespace: "n", key: "a") == nil)
        #expect(await store.count(namespace: "n") == 1)
    }

    @Test("PKCE: RFC 7636 appendix B example")
    func pkceVector() {
        #expect(OAuthSecrets.challenge(forVerifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
        #expect(!OAuthSecrets.isValidVerifier("short") && !OAuthSecrets.isValidVerifier(String(repeating: "a", count: 129)))
    }
}
