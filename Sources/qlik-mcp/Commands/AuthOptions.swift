import ArgumentParser
import Foundation
import MCPAuth
import MCPServerHost
import QlikTools
import ServerSettings

/// The authentication flags of `serve` (HTTP transports only; stdio runs as the local user).
/// Secrets — upstream client secret, introspection secret — come from environment variables or
/// files, never from flags, so they do not show up in process lists.
struct AuthOptions: ParsableArguments {
    @Option(help: ArgumentHelp("none, oauth, apikey or oauth+apikey. Env: QLIK_MCP_AUTH.", valueName: "mode")) var auth: String?
    @Flag(help: "Allow --auth none on a non-loopback address (anyone who reaches the port can use the tools). Env: QLIK_MCP_INSECURE_NO_AUTH.")
    var insecureNoAuth = false
    @Option(help: ArgumentHelp("The URL clients use to reach this server, e.g. https://mcp.example.com. Env: QLIK_MCP_PUBLIC_URL.", valueName: "url"))
    var publicURL: String?
    @Option(help: ArgumentHelp("Resource-server mode: the authorization server whose JWTs are accepted. Env: QLIK_MCP_OAUTH_ISSUER.", valueName: "url"))
    var oauthIssuer: String?
    @Option(help: ArgumentHelp("The aud tokens must carry (default: <public URL>/mcp). Env: QLIK_MCP_OAUTH_AUDIENCE.", valueName: "uri"))
    var oauthAudience: String?
    @Option(help: ArgumentHelp("Proxy mode: github, entra, google, qlik-cloud or oidc. Env: QLIK_MCP_OAUTH_PROVIDER.", valueName: "preset"))
    var oauthProvider: String?
    @Option(help: ArgumentHelp("entra: the tenant id. Env: QLIK_MCP_OAUTH_TENANT.", valueName: "guid")) var oauthTenant: String?
    @Option(help: ArgumentHelp("oidc: issuer URL; qlik-cloud: tenant URL; github: GitHub Enterprise Server URL. Env: QLIK_MCP_OAUTH_PROVIDER_URL.", valueName: "url"))
    var oauthProviderURL: String?
    @Option(help: ArgumentHelp("File holding the upstream client id (or env QLIK_MCP_OAUTH_CLIENT_ID).", valueName: "path")) var oauthClientIDFile: String?
    @Option(help: ArgumentHelp("File holding the upstream client secret (or env QLIK_MCP_OAUTH_CLIENT_SECRET).", valueName: "path")) var oauthClientSecretFile: String?
    @Option(
        help: ArgumentHelp(
            "Proxy mode: PEM file of an EC P-256 token-signing key; repeat to keep older keys valid (first signs). Env: QLIK_MCP_OAUTH_SIGNING_KEYS (comma-separated).", valueName: "path"))
    var oauthSigningKey: [String] = []
    @Option(help: ArgumentHelp("Proxy mode: access token lifetime in seconds (60–86400, default 600). Env: QLIK_MCP_OAUTH_ACCESS_TOKEN_TTL.", valueName: "seconds"))
    var oauthAccessTokenTTL: Int?
    @Option(help: ArgumentHelp("RFC 7662 introspection endpoint for opaque tokens (credentials: QLIK_MCP_INTROSPECTION_CLIENT_ID/_SECRET). Env: QLIK_MCP_OAUTH_INTROSPECTION_URL.", valueName: "url"))
    var oauthIntrospectionURL: String?
    @Option(
        help: ArgumentHelp("Scopes a client is told to ask for (401 challenge) and granted when it asks for none; default qlik:read,qlik:data. Env: QLIK_MCP_OAUTH_DEFAULT_SCOPES.", valueName: "list"))
    var oauthDefaultScopes: String?
    @Option(help: ArgumentHelp("The API key file (qlik-mcp apikey create). Env: QLIK_MCP_APIKEYS_FILE.", valueName: "path")) var apikeysFile: String?
    @Option(help: ArgumentHelp("Hybrid mode (Enterprise): the token claim that names the Qlik user, e.g. preferred_username or upn. Env: QLIK_MCP_OAUTH_IDENTITY_CLAIM.", valueName: "claim"))
    var oauthIdentityClaim: String?
    @Option(help: ArgumentHelp("Hybrid mode: UserDirectory for claim values without DOMAIN\\ (default: the engine's --user-directory). Env: QLIK_MCP_OAUTH_USER_DIRECTORY.", valueName: "name"))
    var oauthUserDirectory: String?

    private func env(_ name: String) -> String? { ProcessEnvironment.current[name].flatMap { $0.isEmpty ? nil : $0 } }

    /// A secret from `QLIK_MCP_<NAME>`, or from the file a flag or `QLIK_MCP_<NAME>_FILE` names.
    private func secret(_ name: String, file: String?) throws -> String? {
        if let value = env("QLIK_MCP_\(name)") { return value }
        guard let path = file ?? env("QLIK_MCP_\(name)_FILE") else { return nil }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw ValidationError("cannot read \(path) (QLIK_MCP_\(name))") }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func mode(_ file: ServerConfigFile.Auth) throws -> AuthMode {
        let text = (auth ?? env("QLIK_MCP_AUTH") ?? file.mode ?? "none").lowercased()
        guard let mode = AuthMode(rawValue: text) else { throw ValidationError("--auth must be none, oauth, apikey or oauth+apikey (got '\(text)')") }
        return mode
    }

    func allowsInsecureNoAuth(_ file: ServerConfigFile.Auth) -> Bool {
        insecureNoAuth || ["1", "true", "yes"].contains(env("QLIK_MCP_INSECURE_NO_AUTH")?.lowercased() ?? "") || file.insecureNoAuth == true
    }

    /// Flag, else environment variable, else the config file's `auth:` section.
    func settings(_ file: ServerConfigFile.Auth = .init()) throws -> AuthSettings {
        var settings = AuthSettings()
        settings.mode = try mode(file)
        settings.publicURL = publicURL ?? env("QLIK_MCP_PUBLIC_URL") ?? file.publicURL
        settings.audience = oauthAudience ?? env("QLIK_MCP_OAUTH_AUDIENCE") ?? file.audience
        settings.issuer = oauthIssuer ?? env("QLIK_MCP_OAUTH_ISSUER") ?? file.issuer
        settings.apiKeysFile = apikeysFile ?? env("QLIK_MCP_APIKEYS_FILE") ?? file.apiKeysFile
        settings.signingKeyFiles =
            oauthSigningKey.isEmpty
            ? (env("QLIK_MCP_OAUTH_SIGNING_KEYS")?.split(separator: ",").map { String($0) } ?? file.signingKeys ?? []) : oauthSigningKey
        if let ttl = oauthAccessTokenTTL ?? env("QLIK_MCP_OAUTH_ACCESS_TOKEN_TTL").flatMap(Int.init) ?? file.accessTokenTTL {
            guard (60...86_400).contains(ttl) else { throw ValidationError("--oauth-access-token-ttl must be between 60 and 86400 seconds") }
            settings.accessTokenLifetime = TimeInterval(ttl)
        }
        if let list = oauthDefaultScopes ?? env("QLIK_MCP_OAUTH_DEFAULT_SCOPES") ?? file.defaultScopes?.joined(separator: ",") {
            do { settings.defaultScopes = try QlikScope.parseList(list) } catch { throw ValidationError("--oauth-default-scopes: \(error.message)") }
        }
        if let name = oauthProvider ?? env("QLIK_MCP_OAUTH_PROVIDER") ?? file.provider {
            guard let preset = UpstreamProviderConfiguration.Preset(rawValue: name.lowercased()) else {
                throw ValidationError("--oauth-provider must be one of \(UpstreamProviderConfiguration.Preset.allCases.map(\.rawValue).joined(separator: ", ")) (got '\(name)')")
            }
            settings.upstream = UpstreamProviderConfiguration(
                preset: preset, clientID: try secret("OAUTH_CLIENT_ID", file: oauthClientIDFile ?? file.clientIDFile) ?? file.clientID ?? "",
                clientSecret: try secret("OAUTH_CLIENT_SECRET", file: oauthClientSecretFile ?? file.clientSecretFile) ?? "",
                tenant: oauthTenant ?? env("QLIK_MCP_OAUTH_TENANT") ?? file.tenant, url: oauthProviderURL ?? env("QLIK_MCP_OAUTH_PROVIDER_URL") ?? file.providerURL)
        }
        if let url = oauthIntrospectionURL ?? env("QLIK_MCP_OAUTH_INTROSPECTION_URL") ?? file.introspectionURL {
            guard let id = try secret("INTROSPECTION_CLIENT_ID", file: nil), let secret = try secret("INTROSPECTION_CLIENT_SECRET", file: nil) else {
                throw ValidationError("--oauth-introspection-url needs QLIK_MCP_INTROSPECTION_CLIENT_ID and QLIK_MCP_INTROSPECTION_CLIENT_SECRET")
            }
            settings.introspection = IntrospectionConfiguration(endpoint: url, clientID: id, clientSecret: secret)
        }
        return settings
    }

    /// The hybrid identity mapping, when a claim is configured.
    func identityMapping(defaultDirectory: String?, file: ServerConfigFile.Auth = .init()) throws -> QlikIdentityMapping? {
        guard let claim = oauthIdentityClaim ?? env("QLIK_MCP_OAUTH_IDENTITY_CLAIM") ?? file.identityClaim else { return nil }
        guard let directory = oauthUserDirectory ?? env("QLIK_MCP_OAUTH_USER_DIRECTORY") ?? file.userDirectory ?? defaultDirectory, !directory.isEmpty else {
            throw ValidationError("--oauth-identity-claim needs --oauth-user-directory (or the engine's --user-directory)")
        }
        return QlikIdentityMapping(claim: claim, defaultDirectory: directory)
    }
}
