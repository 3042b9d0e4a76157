import Crypto
import Foundation
import JSONCore
import QlikEngine

/// Everything a cached answer depends on. Two calls share an entry only when every part is equal;
/// the parts are length-prefixed before hashing, so no two different sets of parts give the same
/// text. README "Caching" documents the derivation.
struct CacheKey: Sendable, Hashable {
    /// Hex SHA-256 of the parts (the Redis key and the in-process key).
    let digest: String
    /// The app the entry belongs to (lowercased; nil for app-less tools), for invalidation.
    let app: String?
    /// The app id as the caller gave it (to reach the engine with).
    let appID: String?
    /// The selections the answer depends on (nil when it does not).
    let selections: String?
    /// False for an app missing from the listing: its answers have no reload time to be keyed by,
    /// so only "not found" is kept.
    let listed: Bool

    struct Parts {
        var tenant: String
        /// Engine deployment (URL and virtual proxy).
        var engine: String
        /// Digest of the identity the engine sees (user, API key, certificate user).
        var identity: String
        var app: String?
        /// The app's last reload time (or, for app-less tools, the fingerprint of every app's).
        var appVersion: String
        /// Flush generations: global and the app's.
        var generation: String
        /// Canonical current selections (data tools; nil otherwise).
        var selections: String?
        var tool: String
        var toolVersion: String
        /// Canonical JSON of the validated arguments (keys sorted).
        var arguments: String
    }

    init(_ parts: Parts, listed: Bool = true) {
        var hasher = SHA256()
        for part in [
            "qlik-mcp-cache-v1", parts.tenant, parts.engine, parts.identity, parts.app ?? "-", parts.appVersion, parts.generation,
            parts.selections ?? "-", parts.tool, parts.toolVersion, parts.arguments,
        ] {
            let bytes = Array(part.utf8)
            hasher.update(data: Array("\(bytes.count):".utf8))
            hasher.update(data: bytes)
        }
        digest = Self.hex(hasher.finalize())
        app = parts.app?.lowercased()
        appID = parts.app
        selections = parts.selections
        self.listed = listed
    }

    /// A digest of what identifies the caller to the engine: the deployment's identity plus the
    /// headers sent on the WebSocket upgrade (`X-Qlik-User`, or the API key) — never the raw
    /// values in the key.
    static func identity(of endpoint: QIXEndpoint) -> String {
        var hasher = SHA256()
        hasher.update(data: Array(endpoint.engineID.utf8))
        hasher.update(data: [0])
        for (name, value) in endpoint.headers {
            hasher.update(data: Array(name.lowercased().utf8))
            hasher.update(data: [0])
            hasher.update(data: Array(value.utf8))
            hasher.update(data: [0])
        }
        hasher.update(data: Array((endpoint.certificates.clientCertificate ?? "-").utf8))
        return hex(hasher.finalize().prefix(16))
    }

    private static let digits = Array("0123456789abcdef".utf8)

    /// Lower-case hex of `bytes` (on the hot path of every cached call; `String(format:)` is slow).
    static func hex<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
