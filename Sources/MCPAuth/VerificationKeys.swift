import Foundation
import JSONCore
import JWTKit

/// One public key that may verify access tokens, with the algorithm family its type allows.
/// Each key sits alone in its own `JWTKeyCollection`: jwt-kit falls back to the collection's
/// default key for an unknown `kid`, which must never happen here.
public struct VerificationKey: Sendable {
    public let kid: String
    /// `RSA`, `EC` or `OKP`.
    public let keyType: String
    public let curve: String?
    /// The JWK's own `alg`, when it names one.
    public let declaredAlgorithm: String?
    let collection: JWTKeyCollection

    /// Builds the key from one JWK of a key set; nil for keys that cannot verify signatures
    /// (encryption keys, symmetric keys, unsupported types).
    public static func make(jwk json: JSONValue, fallbackKid: String?) async -> VerificationKey? {
        guard let object = json.objectValue, let kty = object["kty"]?.stringValue, ["RSA", "EC", "OKP"].contains(kty) else { return nil }
        if let use = object["use"]?.stringValue, use != "sig" { return nil }
        guard let kid = object["kid"]?.stringValue ?? fallbackKid, !kid.isEmpty, kid.count <= 256 else { return nil }
        var copy = object
        copy["kid"] = .string(kid)
        guard let jwk = try? JWK(json: JSONCoding.serialize(.object(copy))) else { return nil }
        let collection = JWTKeyCollection()
        guard (try? await collection.add(jwk: jwk)) != nil else { return nil }
        return VerificationKey(kid: kid, keyType: kty, curve: object["crv"]?.stringValue, declaredAlgorithm: object["alg"]?.stringValue, collection: collection)
    }

    /// Whether a token signed with `alg` may be checked with this key: the algorithm must belong
    /// to the key's type (no RSA key used as an HMAC secret, no curve confusion) and match the
    /// JWK's `alg` when it has one.
    public func accepts(algorithm alg: String) -> Bool {
        if let declaredAlgorithm, declaredAlgorithm != alg { return false }
        switch alg {
        case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512": return keyType == "RSA"
        case "ES256": return keyType == "EC" && curve == "P-256"
        case "ES384": return keyType == "EC" && curve == "P-384"
        case "EdDSA": return keyType == "OKP" && curve == "Ed25519"
        default: return false
        }
    }

    /// Checks the signature only (claims are checked by the caller).
    func verifySignature(_ token: String) async -> Bool {
        (try? await collection.verify(token, as: SignatureOnly.self)) != nil
    }
}

/// A payload type that accepts any claims: jwt-kit checks the signature, the validator the claims.
struct SignatureOnly: JWTPayload {
    init(from decoder: any Decoder) throws {}
    func encode(to encoder: any Encoder) throws {}
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// Where the validator finds the key named by a token's `kid`.
public protocol VerificationKeySource: Sendable {
    /// The key with this id (or the only key when `kid` is nil and there is exactly one); nil
    /// when there is none even after a refresh.
    func key(kid: String?) async throws(AuthFailure) -> VerificationKey?
}

/// A fixed set of keys (this server's own token-signing keys).
public struct StaticKeySource: VerificationKeySource {
    let keys: [VerificationKey]

    public init(keys: [VerificationKey]) {
        self.keys = keys
    }

    public func key(kid: String?) async throws(AuthFailure) -> VerificationKey? {
        guard let kid else { return keys.count == 1 ? keys[0] : nil }
        return keys.first { $0.kid == kid }
    }
}
