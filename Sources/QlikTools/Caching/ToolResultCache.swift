import JSONCore

/// What the cache layer did for one tool call; sent in the result's `_meta` (`cache`,
/// `cacheTier`, `cacheAgeSeconds`, `cacheBypassReason`) and set on the call's span.
public struct CacheReport: Sendable, Equatable {
    public enum Outcome: String, Sendable {
        /// Answered from the cache (`tier` says which).
        case hit
        /// Computed by the engine (and stored when the policy allows).
        case miss
        /// The engine failed; an expired answer was served (`ageSeconds` old).
        case stale
        /// The cache was not consulted (`reason` says why).
        case bypass
    }

    /// `l1` (this process) or `l2` (Redis, shared by the replicas).
    public enum Tier: String, Sendable {
        case l1, l2
    }

    public var outcome: Outcome
    public var tier: Tier?
    /// Age of a served answer (hit or stale), seconds.
    public var ageSeconds: Double?
    /// Why the cache was bypassed: `requested`, `policy`, `disabled`, `unversioned`, `selections`.
    public var reason: String?

    public init(_ outcome: Outcome, tier: Tier? = nil, ageSeconds: Double? = nil, reason: String? = nil) {
        self.outcome = outcome
        self.tier = tier
        self.ageSeconds = ageSeconds
        self.reason = reason
    }

    public static func bypass(_ reason: String) -> CacheReport { CacheReport(.bypass, reason: reason) }
}

/// One tool call's outcome and what the cache did for it.
public struct CachedCall: Sendable {
    public let outcome: Result<ToolOutput, any Error>
    public let report: CacheReport?
    /// The result of an earlier run with the same idempotency key (`_meta.idempotentReplay`).
    public let idempotentReplay: Bool

    public init(_ outcome: Result<ToolOutput, any Error>, report: CacheReport?, idempotentReplay: Bool = false) {
        self.outcome = outcome
        self.report = report
        self.idempotentReplay = idempotentReplay
    }

    /// Runs `body`, capturing its error.
    public static func capture(report: CacheReport? = nil, _ body: () async throws -> ToolOutput) async -> CachedCall {
        do {
            return CachedCall(.success(try await body()), report: report)
        } catch {
            return CachedCall(.failure(error), report: report)
        }
    }
}

/// The seam between the tool runner (`ToolRegistry.call`) and the engine: a cache layer that
/// answers a call from a cache or runs `compute` (the tool's handler). Implemented by the
/// `ToolCache` module; the tools know nothing about it.
public protocol ToolResultCache: Sendable {
    func run(
        _ tool: QlikTool, arguments: ToolArguments, context: ToolContext,
        compute: @escaping @Sendable () async throws -> ToolOutput
    ) async -> CachedCall
}
