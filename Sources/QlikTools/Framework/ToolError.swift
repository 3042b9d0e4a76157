import JSONCore
import QlikEngine

/// A tool failure, reported to the client as a result with `isError: true` and this structure.
public struct ToolError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The categories of the error taxonomy.
    public enum Category: String, Sendable, CaseIterable {
        case invalidArgument = "invalid_argument"
        case notFound = "not_found"
        case permissionDenied = "permission_denied"
        case engineUnavailable = "engine_unavailable"
        case engineError = "engine_error"
        case timeout
        case limitExceeded = "limit_exceeded"
        case unsupported
        /// The operation collides with another (an idempotency key in use; a changed script).
        case conflict
        /// A rate limit refused the call (`retry_after_s` says when to come back, `limit` which).
        case rateLimited = "rate_limited"
        /// The engine is saturated and the call was shed instead of queued (`retry_after_s`).
        case overloaded
    }

    /// A stable machine-readable code, e.g. `APP_NOT_FOUND`, `LOCERR_GENERIC_NOT_FOUND`.
    public let code: String
    public let category: Category
    public let message: String
    /// What the caller should do about it.
    public let remediation: String
    public let retryable: Bool
    /// When a retry may succeed (an open circuit breaker, a rate limit), in seconds.
    public let retryAfterSeconds: Double?
    /// More fields of the structured error (e.g. `limit` of a rate limit).
    public let details: [String: JSONValue]

    public init(
        code: String, category: Category, message: String, remediation: String, retryable: Bool = false, retryAfterSeconds: Double? = nil,
        details: [String: JSONValue] = [:]
    ) {
        self.code = code
        self.category = category
        self.message = message
        self.remediation = remediation
        self.retryable = retryable
        self.retryAfterSeconds = retryAfterSeconds
        self.details = details
    }

    public var description: String { "\(category.rawValue) [\(code)]: \(message) — \(remediation)" }

    /// The structured form sent in `structuredContent`.
    public var json: JSONValue {
        var error: [String: JSONValue] = [
            "code": .string(code), "category": .string(category.rawValue), "message": .string(message),
            "remediation": .string(remediation), "retryable": .bool(retryable),
        ]
        error["retry_after_s"] = retryAfterSeconds.map { .number($0) }
        for (key, value) in details where error[key] == nil { error[key] = value }
        return ["error": .object(error)]
    }

    static func notFound(_ what: String, _ name: String, candidates: [String], listTool: String) -> ToolError {
        let suggestion = Suggestions.closest(to: name, in: candidates)
        let remediation = suggestion.map { "did you mean '\($0)'?" } ?? "call \(listTool) to see what exists"
        return ToolError(
            code: "\(what.uppercased().replacingOccurrences(of: " ", with: "_"))_NOT_FOUND", category: .notFound,
            message: "\(what) '\(name)' not found", remediation: remediation)
    }

    /// Maps client and engine errors into the taxonomy.
    public static func from(_ error: any Error) -> ToolError {
        if let tool = error as? ToolError { return tool }
        if let argument = error as? ArgumentError {
            return ToolError(code: "INVALID_ARGUMENT", category: .invalidArgument, message: argument.description, remediation: "fix '\(argument.field)' and call again")
        }
        if let qix = error as? QIXError {
            switch qix.code {
            case 2, 1003: return ToolError(code: qix.name, category: .notFound, message: qix.message, remediation: "check the id or name; list the items first")
            case 5, 403: return ToolError(code: qix.name, category: .permissionDenied, message: qix.message, remediation: "the engine user lacks access to this item")
            case 20: return ToolError(code: qix.name, category: .unsupported, message: qix.message, remediation: "rephrase the request with supported functions or fields")
            case 7003, 7009, 6001: return ToolError(code: qix.name, category: .limitExceeded, message: qix.message, remediation: "ask for fewer rows or columns")
            case -32602, 8, 9: return ToolError(code: qix.name, category: .invalidArgument, message: qix.message, remediation: "fix the argument the message names")
            default:
                return ToolError(
                    code: qix.name, category: .engineError, message: qix.message, remediation: "the Qlik engine rejected the request; check the message", retryable: qix.code == 10 || qix.code == -128)
            }
        }
        if let client = error as? QIXClientError {
            switch client {
            case .timeout: return ToolError(code: "ENGINE_TIMEOUT", category: .timeout, message: client.description, remediation: "retry, or narrow the request", retryable: true)
            case .engineBusy: return ToolError(code: "ENGINE_BUSY", category: .engineUnavailable, message: client.description, remediation: "retry in a few seconds", retryable: true)
            case .connectionFailed, .connectionClosed:
                return ToolError(code: "ENGINE_UNAVAILABLE", category: .engineUnavailable, message: client.description, remediation: "check that the Qlik engine is reachable; retry", retryable: true)
            case .http(let status, _, _) where status == 401 || status == 403:
                return ToolError(code: "HTTP_\(status)", category: .permissionDenied, message: client.description, remediation: "check the credentials configured for the engine")
            default: return ToolError(code: "ENGINE_CLIENT_ERROR", category: .engineError, message: client.description, remediation: "see the message")
            }
        }
        if error is CancellationError {
            return ToolError(code: "CANCELLED", category: .timeout, message: "the call was cancelled", remediation: "retry if still needed", retryable: true)
        }
        return ToolError(code: "INTERNAL", category: .engineError, message: String(describing: error), remediation: "retry; report it if it persists", retryable: true)
    }
}

/// "Did you mean …?" suggestions by edit distance.
enum Suggestions {
    static func closest(to word: String, in candidates: [String]) -> String? {
        let target = word.lowercased()
        var best: (String, Int)?
        for candidate in candidates {
            let distance = levenshtein(target, candidate.lowercased())
            if distance <= max(2, target.count / 3), distance < (best?.1 ?? .max) { best = (candidate, distance) }
        }
        return best?.0
    }

    static func levenshtein(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
