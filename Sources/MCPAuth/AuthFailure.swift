import Foundation
import QlikTools

/// Why a request to an MCP endpoint was refused. `reason` is a bounded label (metrics, audit log);
/// `status` and `challenge` are what the client sees (RFC 6750 §3, MCP authorization spec).
public enum AuthFailure: Error, Equatable, Sendable {
    /// No `Authorization: Bearer` header at all.
    case missing
    /// The header is not `Bearer <token68>`, or the token was sent in the query string.
    case invalidRequest(reason: String, description: String)
    /// The token is not acceptable: expired, forged, for another resource, revoked, …
    case invalidToken(reason: String, description: String)
    /// The token is valid but lacks a scope; `needed` is the scope set to ask for (step-up).
    case insufficientScope(needed: Set<QlikScope>, description: String)
    /// Keys or the introspection endpoint could not be reached; nothing can be validated now.
    case unavailable(description: String)

    public var reason: String {
        switch self {
        case .missing: return "missing"
        case .invalidRequest(let reason, _), .invalidToken(let reason, _): return reason
        case .insufficientScope: return "insufficient_scope"
        case .unavailable: return "key_source_unavailable"
        }
    }

    public var description: String {
        switch self {
        case .missing: return "this endpoint needs an access token: send Authorization: Bearer <token>"
        case .invalidRequest(_, let text), .invalidToken(_, let text), .insufficientScope(_, let text), .unavailable(let text): return text
        }
    }

    public var status: Int {
        switch self {
        case .missing, .invalidToken: return 401
        case .invalidRequest: return 400
        case .insufficientScope: return 403
        case .unavailable: return 503
        }
    }

    /// The `WWW-Authenticate` value. `defaultScopes` is the scope hint of a 401 (what to ask for).
    public func challenge(resourceMetadata: String, defaultScopes: Set<QlikScope>) -> String {
        var parameters: [(String, String)] = []
        switch self {
        case .missing:
            break
        case .invalidRequest:
            parameters.append(("error", "invalid_request"))
        case .invalidToken:
            parameters.append(("error", "invalid_token"))
        case .insufficientScope:
            parameters.append(("error", "insufficient_scope"))
        case .unavailable:
            parameters.append(("error", "temporarily_unavailable"))
        }
        if case .missing = self {} else { parameters.append(("error_description", description)) }
        parameters.append(("resource_metadata", resourceMetadata))
        let scopes: Set<QlikScope>
        if case .insufficientScope(let needed, _) = self { scopes = needed } else { scopes = defaultScopes }
        parameters.append(("scope", scopes.sorted().map(\.rawValue).joined(separator: " ")))
        return "Bearer " + parameters.map { "\($0.0)=\"\(Self.quoted($0.1))\"" }.joined(separator: ", ")
    }

    /// RFC 9110 quoted-string content: backslash-escape `"` and `\`, drop control characters.
    static func quoted(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars where scalar.value >= 0x20 && scalar.value != 0x7F && scalar.isASCII {
            if scalar == "\"" || scalar == "\\" { out.append("\\") }
            out.unicodeScalars.append(scalar)
        }
        return out
    }
}
