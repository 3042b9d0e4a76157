import JSONCore
import QIXWire

/// An error answered by the engine: a `LocalizedErrorCode` (or JSON-RPC code) with its name,
/// the engine's message and the parameter it concerns.
public struct QIXError: Error, CustomStringConvertible, Sendable, Equatable {
    public let code: Int
    /// Symbolic name, e.g. `LOCERR_GENERIC_NOT_FOUND` or `JSONRPC_METHOD_NOT_FOUND`.
    public let name: String
    public let message: String
    public let parameter: String
    /// The method that failed.
    public let method: String

    public init(code: Int, message: String, parameter: String, method: String) {
        self.code = code
        self.name = QIXErrorNames.name(for: code)
        self.message = message
        self.parameter = parameter
        self.method = method
    }

    public var description: String {
        let about = parameter.isEmpty ? "" : " (parameter: \(parameter))"
        return "\(method) failed: \(name) [\(code)]: \(message)\(about)"
    }
}

/// Errors of the client itself: connecting, transport, time-outs, pool limits.
public enum QIXClientError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The WebSocket could not be opened; `reason` says why and what to check.
    case connectionFailed(url: String, reason: String)
    /// The connection closed while requests were waiting (or before a request was sent).
    case connectionClosed(reason: String)
    /// No response within the request timeout.
    case timeout(method: String, after: Duration)
    /// The caller's task was cancelled before the response arrived.
    case cancelled(method: String)
    /// The engine sent something that is not QIX.
    case protocolViolation(String)
    /// The handle was closed by the engine (`close` in a response) and can no longer be used.
    case handleClosed(handle: Int)
    /// All connections to the engine are in use and none freed up in time.
    case engineBusy(engine: String, waited: Duration, limit: Int)
    /// The endpoint configuration is not usable.
    case invalidConfiguration(String)
    /// A REST call (QRS / Qlik Cloud) failed.
    case http(status: Int, url: String, message: String)

    public var description: String {
        switch self {
        case .connectionFailed(let url, let reason): return "could not connect to the Qlik engine at \(url): \(reason)"
        case .connectionClosed(let reason): return "the connection to the Qlik engine closed: \(reason)"
        case .timeout(let method, let after): return "\(method) got no answer within \(after) (raise the request timeout or check the engine)"
        case .cancelled(let method): return "\(method) was cancelled"
        case .protocolViolation(let detail): return "the engine sent an invalid QIX message: \(detail)"
        case .handleClosed(let handle): return "handle \(handle) was closed by the engine; open the object again"
        case .engineBusy(let engine, let waited, let limit):
            return "engine busy: all \(limit) connections to \(engine) are in use and none was free after \(waited); retry later or raise the pool limit"
        case .invalidConfiguration(let detail): return "invalid engine configuration: \(detail)"
        case .http(let status, let url, let message): return "HTTP \(status) from \(url): \(message)"
        }
    }
}
