/// Why an API key operation or check failed; `reason` is a bounded label for metrics and audit logs.
public enum APIKeyError: Error, Equatable, CustomStringConvertible, Sendable {
    case invalidInput(String)
    case file(String)
    /// The presented key is not shaped like a qlik-mcp key.
    case malformed
    /// No key with that id (or the secret does not match — the two are not told apart).
    case unknown
    case revoked
    case expired

    public var reason: String {
        switch self {
        case .invalidInput: return "invalid_input"
        case .file: return "file_error"
        case .malformed: return "malformed"
        case .unknown: return "unknown_key"
        case .revoked: return "revoked"
        case .expired: return "expired"
        }
    }

    public var description: String {
        switch self {
        case .invalidInput(let message), .file(let message): return message
        case .malformed: return "the bearer token is not a qlik-mcp API key (qmcp_<id>_<secret>)"
        case .unknown: return "unknown API key"
        case .revoked: return "the API key has been revoked"
        case .expired: return "the API key has expired"
        }
    }
}
