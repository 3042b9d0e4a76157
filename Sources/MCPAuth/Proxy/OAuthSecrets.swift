import Crypto
import Foundation

/// Random secrets and the hashes they are stored under; PKCE (RFC 7636, S256 only).
enum OAuthSecrets {
    /// 32 random bytes, base64url: codes, refresh tokens, state, transaction ids.
    static func token(bytes: Int = 32) -> String {
        var generator = SystemRandomNumberGenerator()
        return Base64URL.encode((0..<bytes).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }

    /// The store key of a secret: hex SHA-256.
    static func digest(_ secret: String) -> String {
        Hex.sha256(secret)
    }

    /// `BASE64URL(SHA256(verifier))`.
    static func challenge(forVerifier verifier: String) -> String {
        Base64URL.encode(SHA256.hash(data: Data(verifier.utf8)))
    }

    /// RFC 7636 §4.1: 43–128 characters of [A-Z a-z 0-9 - . _ ~].
    static func isValidVerifier(_ verifier: String) -> Bool {
        (43...128).contains(verifier.count) && verifier.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-._~".contains($0)) }
    }

    /// An S256 challenge is 43 base64url characters.
    static func isValidChallenge(_ challenge: String) -> Bool {
        challenge.count == 43 && Base64URL.decode(challenge) != nil
    }

    static func verify(verifier: String, challenge: String) -> Bool {
        isValidVerifier(verifier) && APIKeyVerifier.constantTimeEqual(Self.challenge(forVerifier: verifier), challenge)
    }
}
