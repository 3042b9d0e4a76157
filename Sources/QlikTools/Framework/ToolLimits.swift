import Foundation
import JSONCore
import Logging
import RateLimiting

/// Rate limits and the engine's adaptive concurrency limit around tool calls
/// (`ToolRegistry.limits`). Rate limits are checked first, for every call (a cached answer
/// too — they are about fair use): per principal, per principal and tool, and per tenant
/// (aggregate; the implicit `default` tenant until tenancy exists), all in one decision
/// (`RateLimiter`: this process, or Redis for the cluster). The concurrency limit applies only
/// to calls that reach the engine (cache misses), interactive metadata before data before
/// reloads and writes.
public final class ToolLimits: Sendable {
    public struct Settings: Sendable, Equatable {
        /// Every principal's calls (token subject or API key; `anonymous` without auth).
        public var principal: RateLimit?
        /// Per tool (and principal): tool name → limit.
        public var tools: [String: RateLimit] = [:]
        /// All calls of a tenant together.
        public var tenant: RateLimit?
        /// The engine's concurrency limit; nil: unlimited.
        public var concurrency: AdaptiveConcurrencyLimiter.Configuration?

        public init() {}

        public var hasRateLimits: Bool { principal != nil || tenant != nil || !tools.isEmpty }
    }

    public let settings: Settings
    public let limiter: any RateLimiter
    public let concurrency: AdaptiveConcurrencyLimiter?
    public let metrics: LimitMetrics
    private let logger = Logger(label: "qlik-mcp.limits")
    /// One log line per refused principal and minute.
    private let logged = OncePerWindow(window: .seconds(60))

    public init(settings: Settings, limiter: any RateLimiter, metrics: LimitMetrics = LimitMetrics()) {
        self.settings = settings
        self.limiter = limiter
        self.metrics = metrics
        self.concurrency = settings.concurrency.map { configuration in
            let gauge = metrics.concurrencyLimitGauge(target: "engine")
            return AdaptiveConcurrencyLimiter(configuration: configuration) { limit in gauge.record(limit.rounded(.down)) }
        }
        metrics.prepare(scopes: ["principal", "tool", "tenant"], toolLimits: Array(settings.tools.keys))
    }

    /// The limits one call of `tool` by `principal` counts against.
    func checks(tool: String, principal: String, tenant: String = "default") -> [RateLimitCheck] {
        var checks: [RateLimitCheck] = []
        if let limit = settings.principal { checks.append(RateLimitCheck(key: "p:" + principal, limit: limit)) }
        if let limit = settings.tools[tool] { checks.append(RateLimitCheck(key: "pt:" + principal + ":" + tool, limit: limit)) }
        if let limit = settings.tenant { checks.append(RateLimitCheck(key: "t:" + tenant, limit: limit)) }
        return checks
    }

    /// Throws `rate_limited` when a limit refuses the call.
    func admit(_ tool: QlikTool, context: ToolContext) async throws {
        guard settings.hasRateLimits else { return }
        let principal = context.principalID ?? "anonymous"
        let decision = await limiter.check(checks(tool: tool.replacement ?? tool.name, principal: principal))
        if decision.fallback { metrics.fallback() }
        guard !decision.allowed, let limit = decision.limit else { return }
        metrics.limited(limit: limit.name, scope: Self.scope(of: limit), principal: principal)
        logRefusal(principal: principal, tool: tool.name, limit: limit)
        let seconds = (decision.retryAfter * 1000).rounded(.up) / 1000
        throw ToolError(
            code: "rate_limited", category: .rateLimited,
            message: "the rate limit '\(limit.name)' (\(RateLimit.format(limit.perSecond)), burst \(limit.burst)) refused this call",
            remediation: "call again in \(seconds) s", retryable: true, retryAfterSeconds: seconds,
            details: ["limit": .string(limit.name), "scope": .string(Self.scope(of: limit))])
    }

    /// Runs the engine part of a call within the concurrency limit; throws `overloaded` when shed.
    func run(_ tool: QlikTool, _ body: () async throws -> ToolOutput) async throws -> ToolOutput {
        guard let concurrency else { return try await body() }
        do {
            return try await concurrency.run(priority: Self.priority(tool), classify: Self.outcome, body)
        } catch let shed as AdaptiveConcurrencyLimiter.Shed {
            metrics.shed(reason: shed.reason)
            throw ToolError(
                code: "overloaded", category: .overloaded, message: "the Qlik engine is saturated: the call was shed (\(shed.reason)) instead of queued",
                remediation: "call again in \(Int(shed.retryAfter)) s", retryable: true, retryAfterSeconds: shed.retryAfter,
                details: ["reason": .string(shed.reason)])
        }
    }

    static func scope(of limit: RateLimit) -> String {
        if limit.name.hasPrefix("tool:") { return "tool" }
        return limit.name == "tenant" ? "tenant" : "principal"
    }

    /// Metadata first, then data, then reloads and writes.
    static func priority(_ tool: QlikTool) -> AdaptiveConcurrencyLimiter.Priority {
        guard tool.readOnly else { return .background }
        return ToolCachePolicies.policy(for: tool.replacement ?? tool.name).cacheClass == .data ? .heavy : .interactive
    }

    /// Timeouts and an unreachable engine are congestion signals; the caller's mistakes say nothing.
    static func outcome(_ error: any Error) -> AdaptiveConcurrencyLimiter.Outcome {
        if error is ArgumentError || error is CancellationError { return .ignored }
        switch ToolError.from(error).category {
        case .timeout, .engineUnavailable: return .overloaded
        case .engineError, .notFound, .invalidArgument, .permissionDenied, .limitExceeded, .unsupported, .conflict: return .completed(.zero)
        case .rateLimited, .overloaded: return .ignored
        }
    }

    private func logRefusal(principal: String, tool: String, limit: RateLimit) {
        guard logged.first(principal) else { return }
        logger.warning(
            "rate limit refused a call",
            metadata: [
                "event.name": "qlik_mcp.rate_limited", "enduser.pseudo.id": .string(principal), "gen_ai.tool.name": .string(tool),
                "qlik_mcp.rate_limit.name": .string(limit.name),
            ])
    }
}
