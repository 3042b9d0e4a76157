import Logging
import Testing

@testable import MCPAuth

@Suite("Upstream provider presets")
struct UpstreamPresetTests {
    func resolve(_ configuration: UpstreamProviderConfiguration) async throws -> UpstreamEndpoints {
        try await UpstreamEndpoints.resolve(configuration, http: OAuthHTTPClient(), logger: Logger(label: "test"))
    }

    @Test("github: github.com endpoints, or a GitHub Enterprise Server's with its /api/v3")
    func github() async throws {
        let cloud = try await resolve(.init(preset: .github, clientID: "i", clientSecret: "s"))
        #expect(cloud.authorize == "https://github.com/login/oauth/authorize" && cloud.token == "https://github.com/login/oauth/access_token")
        guard case .userAPI(let url, let field, _) = cloud.identity else { Issue.record("not a user API"); return }
        #expect(url == "https://api.github.com/user" && field == "id" && cloud.scopes == ["read:user"])
        let server = try await resolve(.init(preset: .github, clientID: "i", clientSecret: "s", url: "https://ghe.example.com/"))
        guard case .userAPI(let enterprise, _, _) = server.identity else { Issue.record("not a user API"); return }
        #expect(server.authorize == "https://ghe.example.com/login/oauth/authorize" && enterprise == "https://ghe.example.com/api/v3/user")
    }

    @Test("qlik-cloud: the tenant's /oauth endpoints and /api/v1/users/me")
    func qlikCloud() async throws {
        let tenant = try await resolve(.init(preset: .qlikCloud, clientID: "i", clientSecret: "s", url: "https://acme.eu.qlikcloud.com"))
        #expect(tenant.authorize == "https://acme.eu.qlikcloud.com/oauth/authorize" && tenant.token == "https://acme.eu.qlikcloud.com/oauth/token")
        #expect(tenant.scopes == ["user_default"])
    }

    @Test("each preset says which setting it is missing")
    func validation() {
        let cases: [(UpstreamProviderConfiguration, String)] = [
            (.init(preset: .github, clientID: "", clientSecret: "s"), "QLIK_MCP_OAUTH_CLIENT_ID"),
            (.init(preset: .entra, clientID: "i", clientSecret: "s"), "--oauth-tenant"),
            (.init(preset: .entra, clientID: "i", clientSecret: "s", tenant: "contoso.onmicrosoft.com"), "--oauth-tenant"),
            (.init(preset: .oidc, clientID: "i", clientSecret: "s"), "--oauth-provider-url"),
            (.init(preset: .qlikCloud, clientID: "i", clientSecret: "s", url: "http://acme.example"), "--oauth-provider-url"),
            (.init(preset: .github, clientID: "i", clientSecret: "s", url: "ftp://ghe.example"), "--oauth-provider-url"),
        ]
        for (configuration, hint) in cases {
            #expect(throws: UpstreamError.self) { try configuration.validate() }
            do { try configuration.validate() } catch { #expect(error.description.contains(hint), "\(error.description)") }
        }
        #expect(throws: Never.self) { try UpstreamProviderConfiguration(preset: .google, clientID: "i", clientSecret: "s").validate() }
    }

    @Test("discovery URLs: RFC 8414 path insertion, then OpenID Connect in both forms")
    func discovery() {
        #expect(
            AuthorizationServerDiscovery.candidates(issuer: "https://id.example.com/realms/qlik") == [
                "https://id.example.com/.well-known/oauth-authorization-server/realms/qlik",
                "https://id.example.com/.well-known/openid-configuration/realms/qlik",
                "https://id.example.com/realms/qlik/.well-known/openid-configuration",
            ])
        #expect(AuthorizationServerDiscovery.candidates(issuer: "https://accounts.google.com").count == 2)
        #expect(OAuthHTTPClient.isAllowed("http://127.0.0.1:9/x") && !OAuthHTTPClient.isAllowed("http://10.0.0.1/x") && !OAuthHTTPClient.isAllowed("file:///etc/passwd"))
    }
}
