import Foundation

/// An operation that must not vanish (a reload, a write) and failed after its retries: what it
/// was, who asked, why it failed — so an operator can run it again (`qlik-mcp dlq retry`, the
/// `retry_dead_letter` tool) or drop it.
public struct DeadLetter: Codable, Sendable, Equatable {
    public var id: String
    /// The tool that failed.
    public var operation: String
    /// Its validated arguments as JSON (tools take no secrets).
    public var arguments: String
    /// The caller's pseudonymous id (never a token), when known.
    public var principal: String?
    public var errorCode: String
    public var errorMessage: String
    public var attempts: Int
    public var failedAt: Date
    /// Runs of `retry` that failed again.
    public var retries: Int

    public init(
        id: String = DeadLetter.newID(), operation: String, arguments: String, principal: String?, errorCode: String, errorMessage: String,
        attempts: Int, failedAt: Date = Date(), retries: Int = 0
    ) {
        self.id = id
        self.operation = operation
        self.arguments = arguments
        self.principal = principal
        self.errorCode = errorCode
        self.errorMessage = errorMessage
        self.attempts = attempts
        self.failedAt = failedAt
        self.retries = retries
    }

    /// The JSON form letters are stored in (both stores).
    public static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .millisecondsSince1970
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()
    public static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        return decoder
    }()

    /// Time-ordered: milliseconds since 1970, then random hex.
    public static func newID() -> String {
        let millis = Int64(Date().timeIntervalSince1970 * 1000)
        return "dl-\(millis)-\(UUID().uuidString.prefix(8).lowercased())"
    }
}

/// Where dead letters are kept: a Redis stream with `--state redis`, a local append-only file
/// otherwise. Bounded by count; entries older than the retention are dropped.
public protocol DeadLetterStore: Sendable {
    func append(_ letter: DeadLetter) async throws
    /// Newest last, at most `limit`.
    func list(limit: Int) async throws -> [DeadLetter]
    func get(_ id: String) async throws -> DeadLetter?
    /// True when it existed.
    @discardableResult func remove(_ id: String) async throws -> Bool
    func count() async throws -> Int
}

/// A dead-letter problem with what to do about it.
public struct DeadLetterError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
