import Foundation
import JSONCore
import QlikTools

extension OAuthProxy {
    /// `POST /oauth/token`: `authorization_code` (PKCE verified, code single-use — a replayed code
    /// revokes what it granted) and `refresh_token` (rotated; reuse of a rotated token revokes
    /// the family). `basic` is the decoded `Authorization: Basic` pair, if sent.
    func token(form: [String: String], repeated: Set<String>, basic: (id: String, secret: String)?) async -> OAuthReply {
        do { return try await checkedToken(form: form, repeated: repeated, basic: basic) } catch { return Self.storeUnavailable(error) }
    }

    private func checkedToken(form: [String: String], repeated: Set<String>, basic: (id: String, secret: String)?) async throws -> OAuthReply {
        if let name = repeated.first { return .error(400, "invalid_request", "the parameter \(name) is repeated") }
        let client: RegisteredClient
        switch try await authenticateClient(form: form, basic: basic) {
        case .success(let found): client = found
        case .failure(let reply): return reply
        }
        switch form["grant_type"] {
        case "authorization_code": return try await exchangeCode(form, client: client)
        case "refresh_token": return try await refresh(form, client: client)
        case nil: return .error(400, "invalid_request", "grant_type is missing")
        case let other?: return .error(400, "unsupported_grant_type", "grant_type \(other.prefix(40)) is not supported; use authorization_code or refresh_token")
        }
    }

    private func authenticateClient(form: [String: String], basic: (id: String, secret: String)?) async throws -> Result<RegisteredClient, OAuthReply> {
        let invalid = OAuthReply.error(
            401, "invalid_client", "unknown client or wrong client credentials",
            headers: basic == nil ? [] : [("WWW-Authenticate", "Basic realm=\"qlik-mcp\"")])
        guard let clientID = basic?.id ?? form["client_id"], let client = try await store.get(RegisteredClient.self, ProxyNamespace.client, clientID) else {
            return .failure(invalid)
        }
        if let formID = form["client_id"], formID != clientID { return .failure(invalid) }
        if let expected = client.secretSHA256 {
            let presented = client.authMethod == "client_secret_basic" ? basic?.secret : (form["client_secret"] ?? basic?.secret)
            guard let presented, APIKeyVerifier.constantTimeEqual(OAuthSecrets.digest(presented), expected) else { return .failure(invalid) }
        }
        return .success(client)
    }

    private func exchangeCode(_ form: [String: String], client: RegisteredClient) async throws -> OAuthReply {
        guard let code = form["code"], let verifier = form["code_verifier"], let redirectURI = form["redirect_uri"] else {
            return .error(400, "invalid_request", "code, code_verifier and redirect_uri are required")
        }
        let key = OAuthSecrets.digest(code)
        guard let issued = try await store.take(IssuedCode.self, ProxyNamespace.code, key) else {
            if let family = try await store.get(String.self, ProxyNamespace.usedCode, key) {
                await revokeFamily(family)
                telemetry.grant("token", outcome: "refused", clientID: client.clientID, subject: nil, reason: "code_replay")
                return .error(400, "invalid_grant", "the authorization code was already used; the tokens issued for it are revoked")
            }
            telemetry.grant("token", outcome: "refused", clientID: client.clientID, subject: nil, reason: "unknown_code")
            return .error(400, "invalid_grant", "the authorization code is unknown or expired")
        }
        try? await store.put(issued.family, ProxyNamespace.usedCode, key, ttl: .seconds(600))
        func refuse(_ reason: String, _ text: String) async -> OAuthReply {
            await revokeFamily(issued.family)
            telemetry.grant("token", outcome: "refused", clientID: client.clientID, subject: pseudonym(issued.identity), reason: reason)
            return .error(400, "invalid_grant", text)
        }
        guard issued.clientID == client.clientID else { return await refuse("client_mismatch", "the code was issued to another client") }
        guard issued.redirectURI == redirectURI else { return await refuse("redirect_uri_mismatch", "redirect_uri differs from the authorization request") }
        guard OAuthSecrets.verify(verifier: verifier, challenge: issued.codeChallenge) else {
            return await refuse("pkce_mismatch", "the code_verifier does not match the code_challenge")
        }
        if let resource = form["resource"], !acceptsResource(resource) {
            return .error(400, "invalid_target", "this server issues tokens for \(configuration.resource) only")
        }
        return await issueTokens(client: client, scopes: issued.scopes, identity: issued.identity, family: issued.family, grant: "authorization_code")
    }

    private func refresh(_ form: [String: String], client: RegisteredClient) async throws -> OAuthReply {
        guard client.grantTypes.contains("refresh_token") else { return .error(400, "unauthorized_client", "this client did not register the refresh_token grant") }
        guard let token = form["refresh_token"] else { return .error(400, "invalid_request", "refresh_token is required") }
        let key = OAuthSecrets.digest(token)
        guard var grant = try await store.get(RefreshGrant.self, ProxyNamespace.refresh, key), grant.expiresAt > Date().timeIntervalSince1970 else {
            telemetry.grant("refresh", outcome: "refused", clientID: client.clientID, subject: nil, reason: "unknown_refresh_token")
            return .error(400, "invalid_grant", "the refresh token is unknown or expired")
        }
        guard grant.clientID == client.clientID else { return .error(400, "invalid_grant", "the refresh token was issued to another client") }
        let revoked = await isRevoked(family: grant.family)
        if grant.used || revoked {
            await revokeFamily(grant.family)
            telemetry.grant("refresh", outcome: "refused", clientID: client.clientID, subject: pseudonym(grant.identity), reason: "refresh_token_reuse")
            return .error(400, "invalid_grant", "this refresh token was already used; the whole grant is revoked — sign in again")
        }
        var scopes = grant.scopes
        if let asked = form["scope"], !asked.isEmpty {
            guard let parsed = try? QlikScope.parseList(asked), parsed.isSubset(of: Set(grant.scopes.compactMap(QlikScope.init(rawValue:)))) else {
                return .error(400, "invalid_scope", "a refresh may only narrow the granted scopes (\(grant.scopes.joined(separator: " ")))")
            }
            scopes = parsed.sorted().map(\.rawValue)
        }
        // The one use of this token, atomic across replicas: of two concurrent redemptions (on any
        // replicas) exactly one claims it; the other is reuse. Claimed only once the request is
        // otherwise valid, so a refused request (a widened scope) does not use the token up.
        let remaining = max(1, grant.expiresAt - Date().timeIntervalSince1970)
        guard try await rawStore.claim(namespace: ProxyNamespace.usedRefresh, key: key, ttl: .seconds(Int64(remaining))) else {
            await revokeFamily(grant.family)
            telemetry.grant("refresh", outcome: "refused", clientID: client.clientID, subject: pseudonym(grant.identity), reason: "refresh_token_reuse")
            return .error(400, "invalid_grant", "this refresh token was already used; the whole grant is revoked — sign in again")
        }
        grant.used = true
        try? await store.put(grant, ProxyNamespace.refresh, key, ttl: .seconds(Int64(remaining)))
        return await issueTokens(client: client, scopes: scopes, identity: grant.identity, family: grant.family, grant: "refresh_token")
    }

    /// A store error (Redis unreachable): retryable, never mistaken for an unknown grant.
    static func storeUnavailable(_ error: any Error) -> OAuthReply {
        .error(503, "temporarily_unavailable", "the authorization state store is unavailable; retry shortly", headers: [("Retry-After", "2")])
    }

    private func revokeFamily(_ family: String) async {
        try? await rawStore.put(Data([1]), namespace: ProxyNamespace.revokedFamily, key: family, ttl: .seconds(Int64(configuration.refreshTokenLifetime)))
    }

    private func issueTokens(client: RegisteredClient, scopes: [String], identity: UpstreamIdentity, family: String, grant: String) async -> OAuthReply {
        let access: (token: String, expiresIn: Int)
        do {
            access = try await tokens.mint(subject: identity.subject, scopes: scopes, clientID: client.clientID, family: family, claims: identity.claims)
        } catch {
            return .error(500, "server_error", "could not sign the access token")
        }
        var answer: [String: JSONValue] = [
            "access_token": .string(access.token), "token_type": "Bearer", "expires_in": .number(Double(access.expiresIn)),
            "scope": .string(scopes.joined(separator: " ")),
        ]
        if client.grantTypes.contains("refresh_token") {
            let refresh = OAuthSecrets.token()
            let expires = Date().timeIntervalSince1970 + configuration.refreshTokenLifetime
            let record = RefreshGrant(clientID: client.clientID, scopes: scopes, identity: identity, family: family, used: false, expiresAt: expires)
            do {
                try await store.put(record, ProxyNamespace.refresh, OAuthSecrets.digest(refresh), ttl: .seconds(Int64(configuration.refreshTokenLifetime)))
                answer["refresh_token"] = .string(refresh)
            } catch {
                return .error(503, "temporarily_unavailable", "\(error)", headers: [("Retry-After", "60")])
            }
        }
        telemetry.grant(grant, outcome: "ok", clientID: client.clientID, subject: pseudonym(identity), scopes: scopes)
        return .json(200, .object(answer))
    }
}
