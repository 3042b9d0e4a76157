import Crypto
import Foundation
import QlikTools

/// Who made a request: the identity behind a validated access token or API key.
public struct Principal: Sendable, Equatable {
    public enum Method: String, Sendable {
        case oauth
        case apikey
    }

    public let method: Method
    /// Stable subject: the token's `sub`, or `apikey:<id>` for API keys.
    public let subject: String
    /// The token's issuer (nil for API keys).
    public let issuer: String?
    public let scopes: Set<QlikScope>
    /// The OAuth client the token was issued to, when the token says.
    public let clientID: String?
    /// Identity claims usable for the Qlik identity mapping (`preferred_username`, `email`, `upn`, …),
    /// string-valued only and bounded in number and length. Never logged.
    public let claims: [String: String]

    public init(method: Method, subject: String, issuer: String?, scopes: Set<QlikScope>, clientID: String? = nil, claims: [String: String] = [:]) {
        self.method = method
        self.subject = subject
        self.issuer = issuer
        self.scopes = scopes
        self.clientID = clientID
        self.claims = claims
    }

    /// What sessions are bound to: a session opened by one principal is invisible to every other.
    public var ownerKey: String { "\(method.rawValue)|\(issuer ?? "")|\(subject)" }

    /// A pseudonymous id for logs, spans and audit lines: the first 16 hex digits of SHA-256 of
    /// `ownerKey`. The subject itself (often an e-mail address or a user name) is never logged.
    public var pseudonym: String {
        Hex.encode(SHA256.hash(data: Array(ownerKey.utf8)).prefix(8))
    }

    /// True when every scope of `needed` was granted.
    public func allows(_ needed: QlikScope) -> Bool { scopes.contains(needed) }
}
