/// What the authorization-server proxy stores between the steps of a sign-in. Secrets are never
/// stored: records are keyed by the SHA-256 of the code, token, state or transaction id.
struct PendingAuthorization: Codable, Sendable {
    var clientID: String
    var clientName: String
    var redirectURI: String
    var state: String?
    var codeChallenge: String
    var scopes: [String]
    /// SHA-256 of the browser-binding cookie set with the consent page (login CSRF defence).
    var browserBinding: String
}

/// A consented request waiting for the upstream provider's callback.
struct UpstreamTransaction: Codable, Sendable {
    var pending: PendingAuthorization
    var verifier: String
    var nonce: String
}

/// An authorization code handed to a client (one use, 60 s).
struct IssuedCode: Codable, Sendable {
    var clientID: String
    var redirectURI: String
    var codeChallenge: String
    var scopes: [String]
    var identity: UpstreamIdentity
    var family: String
}

/// A refresh token. Rotation: each use marks it `used` and issues a successor in the same
/// family; presenting a used one again revokes the whole family (RFC 9700 §4.14.2).
struct RefreshGrant: Codable, Sendable {
    var clientID: String
    var scopes: [String]
    var identity: UpstreamIdentity
    var family: String
    var used: Bool
    var expiresAt: Double
}

/// Store namespaces.
enum ProxyNamespace {
    static let client = "client"
    static let consent = "consent"
    static let upstream = "upstream"
    static let code = "code"
    static let usedCode = "code_used"
    static let refresh = "refresh"
    static let usedRefresh = "refresh_used"
    static let revokedFamily = "revoked_family"
}
