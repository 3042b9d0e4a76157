import Foundation
import JSONCore
import Logging

/// The signing keys of an external authorization server, found through its metadata (RFC 8414
/// `/.well-known/oauth-authorization-server`, then OpenID Connect discovery) and cached.
///
/// Bounded: at most `maxKeys` keys are kept; the set is fetched again after `ttl`, and when a
/// token names an unknown `kid` — but at most once per `minimumRefreshInterval`, so forged `kid`s
/// cannot make the server hammer the issuer. Concurrent lookups share one fetch. When a refresh
/// fails, the keys already held stay in use.
public actor JWKSKeySource: VerificationKeySource {
    public let issuer: String
    private let http: OAuthHTTPClient
    private let logger: Logger
    let ttl: Duration
    let minimumRefreshInterval: Duration
    let maxKeys: Int
    private var keys: [String: VerificationKey] = [:]
    private var jwksURI: String?
    private var fetchedAt: ContinuousClock.Instant?
    private var lastAttempt: ContinuousClock.Instant?
    private var inFlight: Task<Void, Never>?
    private var lastError: String?

    public init(
        issuer: String, http: OAuthHTTPClient = OAuthHTTPClient(), ttl: Duration = .seconds(3_600),
        minimumRefreshInterval: Duration = .seconds(30), maxKeys: Int = 50, logger: Logger
    ) {
        self.issuer = issuer
        self.http = http
        self.ttl = ttl
        self.minimumRefreshInterval = minimumRefreshInterval
        self.maxKeys = maxKeys
        self.logger = logger
    }

    public func key(kid: String?) async throws(AuthFailure) -> VerificationKey? {
        let now = ContinuousClock.now
        let stale = fetchedAt.map { now - $0 > ttl } ?? true
        if stale || lookup(kid) == nil, lastAttempt.map({ now - $0 >= minimumRefreshInterval }) ?? true {
            await refresh()
        }
        if keys.isEmpty {
            throw .unavailable(description: "the signing keys of \(issuer) could not be fetched (\(lastError ?? "no keys")); retry shortly")
        }
        return lookup(kid)
    }

    private func lookup(_ kid: String?) -> VerificationKey? {
        guard let kid else { return keys.count == 1 ? keys.values.first : nil }
        return keys[kid]
    }

    /// Fetches metadata (once) and the key set; joins a fetch already under way.
    private func refresh() async {
        if let inFlight { return await inFlight.value }
        lastAttempt = .now
        let task = Task { await self.fetch() }
        inFlight = task
        await task.value
        inFlight = nil
    }

    private func fetch() async {
        do throws(OAuthHTTPClient.Failure) {
            let uri: String
            if let jwksURI {
                uri = jwksURI
            } else {
                let metadata = try await AuthorizationServerDiscovery.metadata(issuer: issuer, http: http)
                guard let found = metadata["jwks_uri"]?.stringValue, OAuthHTTPClient.isAllowed(found) else {
                    throw OAuthHTTPClient.Failure(description: "the metadata of \(issuer) has no usable jwks_uri")
                }
                uri = found
                jwksURI = found
            }
            let set = try await http.getJSON(uri)
            let entries = (set["keys"]?.arrayValue ?? []).prefix(maxKeys)
            var fresh: [String: VerificationKey] = [:]
            for entry in entries {
                if let key = await VerificationKey.make(jwk: entry, fallbackKid: entries.count == 1 ? "default" : nil) { fresh[key.kid] = key }
            }
            guard !fresh.isEmpty else { throw OAuthHTTPClient.Failure(description: "the key set at \(uri) has no signature keys") }
            keys = fresh
            fetchedAt = .now
            lastError = nil
            logger.debug("jwks fetched", metadata: ["qlik_mcp.auth.issuer": .string(issuer), "qlik_mcp.auth.keys": .stringConvertible(fresh.count)])
        } catch {
            lastError = error.description
            logger.warning("jwks fetch failed", metadata: ["qlik_mcp.auth.issuer": .string(issuer), "error.type": "jwks_unavailable", "error.message": .string(error.description)])
        }
    }
}

/// Authorization server metadata lookup: RFC 8414 first, then OpenID Connect discovery, both
/// forms of path insertion; the document's `issuer` must be the issuer asked for (RFC 8414 §3.3).
public enum AuthorizationServerDiscovery {
    public static func candidates(issuer: String) -> [String] {
        guard let components = URLComponents(string: issuer), let scheme = components.scheme, let host = components.host else { return [] }
        let origin = "\(scheme)://\(host)\(components.port.map { ":\($0)" } ?? "")"
        let path = components.path.hasSuffix("/") ? String(components.path.dropLast()) : components.path
        var urls = ["\(origin)/.well-known/oauth-authorization-server\(path)", "\(origin)/.well-known/openid-configuration\(path)"]
        if !path.isEmpty { urls.append("\(origin)\(path)/.well-known/openid-configuration") }
        return urls
    }

    public static func metadata(issuer: String, http: OAuthHTTPClient) async throws(OAuthHTTPClient.Failure) -> JSONValue {
        var failures: [String] = []
        for url in candidates(issuer: issuer) {
            do {
                let document = try await http.getJSON(url)
                guard let stated = document["issuer"]?.stringValue, normalized(stated) == normalized(issuer) else {
                    failures.append("\(url): issuer is \(document["issuer"]?.stringValue ?? "missing"), expected \(issuer)")
                    continue
                }
                return document
            } catch {
                failures.append(error.description)
            }
        }
        throw OAuthHTTPClient.Failure(description: "no authorization server metadata for \(issuer): " + failures.joined(separator: "; "))
    }

    /// Issuers compare exactly, except for one trailing slash.
    static func normalized(_ issuer: String) -> String { issuer.hasSuffix("/") ? String(issuer.dropLast()) : issuer }
}
