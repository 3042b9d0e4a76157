import Crypto
import Foundation
import MCPAuth
import MCPServerHost
import QlikTools

/// The targets of `bench load --auth-compare`: qlik-mcp checking an API key on every request, and
/// validating one of its own ES256 access tokens on every request (proxy mode; the upstream
/// provider is never contacted because the bench mints the token with the server's signing key).
enum AuthBenchTargets {
    static let audience = "urn:qlik-mcp:bench"
    static let publicURL = "http://localhost"

    static func make(in folder: URL) async throws -> [BenchTarget] {
        let directory = folder.appendingPathComponent("auth-bench")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let keys = directory.appendingPathComponent("apikeys.json")
        try? FileManager.default.removeItem(at: keys)
        let (apiKey, _) = try APIKeyStore(path: keys).create(name: "bench", scopes: Set(QlikScope.allCases), expiresInDays: 1)
        let signing = directory.appendingPathComponent("signing.pem")
        try P256.Signing.PrivateKey().pemRepresentation.write(to: signing, atomically: true, encoding: .utf8)
        let issuer = try await SessionTokenIssuer.load(pemFiles: [signing.path], issuer: publicURL + "/oauth", audience: audience, lifetime: 86_400)
        let token = try await issuer.mint(subject: "bench|1", scopes: QlikScope.allCases.map(\.rawValue), clientID: "bench", family: "bench", claims: [:]).token
        var withKey = BenchTarget.qlikMCP(name: "qlik-mcp (API key)", extraArguments: ["--auth", "apikey", "--apikeys-file", keys.path])
        withKey.headers = ["Authorization": "Bearer \(apiKey)"]
        var env = BenchTarget.fullTelemetry
        env["QLIK_MCP_OAUTH_CLIENT_ID"] = "bench"
        env["QLIK_MCP_OAUTH_CLIENT_SECRET"] = "bench"
        var withJWT = BenchTarget.qlikMCP(
            name: "qlik-mcp (JWT)",
            extraArguments: [
                "--auth", "oauth", "--oauth-provider", "github", "--public-url", publicURL, "--oauth-audience", audience,
                "--oauth-signing-key", signing.path, "--oauth-access-token-ttl", "86400",
            ], env: env)
        withJWT.headers = ["Authorization": "Bearer \(token)"]
        return [withKey, withJWT]
    }
}
