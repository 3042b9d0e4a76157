import Foundation
import JSONCore
import QlikTools

/// A client registered through `/register` (RFC 7591). Public clients (`none`) prove possession
/// with PKCE alone; confidential ones also get a secret, stored only as its SHA-256.
struct RegisteredClient: Codable, Sendable {
    var clientID: String
    var secretSHA256: String?
    var name: String
    var redirectURIs: [String]
    var grantTypes: [String]
    var authMethod: String
    var scope: String?
    var issuedAt: Int
}

/// Validation of registration requests and of redirect URIs.
enum ClientRegistration {
    static let authMethods = ["none", "client_secret_post", "client_secret_basic"]
    static let grantTypes = ["authorization_code", "refresh_token"]
    static let maxRedirectURIs = 10

    struct Refusal: Error {
        let error: String
        let description: String
    }

    /// Parses and checks a registration request; the client id and secret are chosen by the caller.
    static func validate(_ body: JSONValue) throws(Refusal) -> (name: String, redirectURIs: [String], grantTypes: [String], authMethod: String, scope: String?) {
        guard let object = body.objectValue else { throw Refusal(error: "invalid_client_metadata", description: "the body must be a JSON object of client metadata") }
        guard let uris = object["redirect_uris"]?.arrayValue?.compactMap(\.stringValue), !uris.isEmpty else {
            throw Refusal(error: "invalid_redirect_uri", description: "redirect_uris must be a non-empty array of strings")
        }
        guard uris.count <= maxRedirectURIs else { throw Refusal(error: "invalid_redirect_uri", description: "at most \(maxRedirectURIs) redirect_uris") }
        for uri in uris {
            if let problem = RedirectURIPolicy.problem(uri) { throw Refusal(error: "invalid_redirect_uri", description: "\(uri.prefix(200)): \(problem)") }
        }
        let grants = object["grant_types"]?.arrayValue?.compactMap(\.stringValue) ?? ["authorization_code", "refresh_token"]
        guard grants.contains("authorization_code"), grants.allSatisfy(grantTypes.contains) else {
            throw Refusal(error: "invalid_client_metadata", description: "grant_types may be authorization_code and refresh_token only (authorization_code is required)")
        }
        if let responses = object["response_types"]?.arrayValue?.compactMap(\.stringValue), responses != ["code"] {
            throw Refusal(error: "invalid_client_metadata", description: "response_types must be [\"code\"]")
        }
        let method = object["token_endpoint_auth_method"]?.stringValue ?? "none"
        guard authMethods.contains(method) else {
            throw Refusal(error: "invalid_client_metadata", description: "token_endpoint_auth_method must be one of \(authMethods.joined(separator: ", "))")
        }
        let name = String((object["client_name"]?.stringValue ?? "unnamed client").prefix(100))
        var scope: String?
        if let requested = object["scope"]?.stringValue, !requested.isEmpty {
            do {
                scope = try QlikScope.parseList(requested).sorted().map(\.rawValue).joined(separator: " ")
            } catch {
                throw Refusal(error: "invalid_client_metadata", description: error.message)
            }
        }
        return (name, uris, grants, method, scope)
    }
}

/// Redirect URIs: `https://` anywhere, `http://` only on loopback (RFC 8252 §7.3), never with a
/// fragment, never `javascript:`/`data:` or other schemes. Matching is exact string comparison,
/// except that a loopback redirect may use any port (RFC 8252 §7.3: native apps pick one at run time).
enum RedirectURIPolicy {
    static func problem(_ uri: String) -> String? {
        guard uri.count <= 2_000, let components = URLComponents(string: uri), let scheme = components.scheme?.lowercased(),
            let host = components.host, !host.isEmpty
        else { return "not an absolute URL" }
        guard components.fragment == nil else { return "a redirect URI may not have a fragment" }
        guard components.user == nil, components.password == nil else { return "a redirect URI may not carry credentials" }
        switch scheme {
        case "https": return nil
        case "http": return LoopbackHost.matches(host) ? nil : "http:// redirect URIs are allowed on loopback (127.0.0.1, [::1], localhost) only; use https://"
        default: return "only https:// (or http:// on loopback) redirect URIs are allowed"
        }
    }

    /// Whether `presented` is one of the registered URIs.
    static func matches(_ presented: String, registered: [String]) -> Bool {
        if registered.contains(presented) { return true }
        guard let asked = URLComponents(string: presented), asked.scheme == "http", let host = asked.host, LoopbackHost.matches(host) else { return false }
        return registered.contains { candidate in
            guard let known = URLComponents(string: candidate), known.scheme == "http", known.host == host else { return false }
            return known.path == asked.path && known.query == asked.query
        }
    }
}
