import Foundation
import JSONCore
import Logging
import MCP
import Metrics
import ServiceContextModule
import Synchronization
import Telemetry
import Tracing

/// Per-call instrumentation of tools: a `tools/call <name>` span (QIX spans nest under it), one
/// log line, `qlik_mcp_tool_calls_total{tool,toolset,outcome}` and
/// `mcp_tool_call_duration_seconds{tool}`; handles cached per tool.
final class ToolInstrumentation: Sendable {
    static let shared = ToolInstrumentation()

    /// Metrics go to `factory`, or to the global `MetricsSystem` when nil.
    private let factory: (any MetricsFactory)?

    init(factory: (any MetricsFactory)? = nil) {
        self.factory = factory
    }

    private func makeCounter(_ label: String, _ dimensions: [(String, String)]) -> Counter {
        factory.map { Counter(label: label, dimensions: dimensions, factory: $0) } ?? Counter(label: label, dimensions: dimensions)
    }

    private let logger = Logger(label: "qlik-mcp.tools")
    private let handles = Mutex<[String: (ok: Counter, error: Counter)]>([:])
    private let appCounters = Mutex<[String: Counter]>([:])
    /// Distinct app ids given their own `qlik_app_access_total` series; later ones count as `other`.
    static let maxTrackedApps = 50

    private let errorCounters = Mutex<[String: Counter]>([:])

    /// `qlik_mcp_tool_errors_total{tool,category}`: failures by taxonomy category (8 categories per tool).
    private func errorCounter(tool: String, category: ToolError.Category) -> Counter {
        errorCounters.withLock { cache in
            let key = tool + "/" + category.rawValue
            if let cached = cache[key] { return cached }
            let created = makeCounter("qlik_mcp_tool_errors_total", [("tool", tool), ("category", category.rawValue)])
            cache[key] = created
            return created
        }
    }

    /// Counts an access to `appID` with bounded label cardinality.
    func recordAppAccess(_ appID: String) {
        let counter = appCounters.withLock { counters -> Counter in
            if let existing = counters[appID] { return existing }
            let label = counters.count < Self.maxTrackedApps ? appID : "other"
            if let other = counters[label] { return other }
            let created = makeCounter("qlik_app_access_total", [("app", label)])
            counters[label] = created
            return created
        }
        counter.increment()
    }

    private func metrics(_ tool: QlikTool) -> (ok: Counter, error: Counter) {
        handles.withLock { cache in
            if let cached = cache[tool.name] { return cached }
            let entry = (
                makeCounter("qlik_mcp_tool_calls_total", [("tool", tool.name), ("toolset", tool.toolset), ("outcome", "ok")]),
                makeCounter("qlik_mcp_tool_calls_total", [("tool", tool.name), ("toolset", tool.toolset), ("outcome", "error")])
            )
            cache[tool.name] = entry
            return entry
        }
    }

    /// Runs `body` (a tool without cache layer).
    func run(tool: QlikTool, context: ToolContext, _ body: () async throws -> ToolOutput) async throws -> CallTool.Result {
        try await run(tool: tool, context: context) { await CachedCall.capture(body) }
    }

    /// Runs `body`; an `ArgumentError` it fails with (an argument only the handler can judge, such
    /// as a cursor) is rethrown as a protocol error, every other error becomes an `isError` result.
    /// What the cache did is added to the result's `_meta`, the span and the log line.
    func run(tool: QlikTool, context: ToolContext, _ body: () async -> CachedCall) async throws -> CallTool.Result {
        let handles = metrics(tool)
        let start = ContinuousClock.now
        if let span = ServiceContext.current?.mcpServerSpan {
            return try await run(tool: tool, context: context, span: span, handles: handles, start: start, body)
        }
        return try await InstrumentationSystem.tracer.withSpan("tools/call \(tool.name)", ofKind: .server) { (span: any Span) async throws -> CallTool.Result in
            span.attributes[SemanticAttributes.genAIToolName] = tool.name
            span.attributes[SemanticAttributes.mcpMethodName] = "tools/call"
            span.attributes[SemanticAttributes.mcpSessionID] = context.sessionID
            for (key, value) in context.callAttributes { span.attributes[key] = value }
            return try await run(tool: tool, context: context, span: span, handles: handles, start: start, body)
        }
    }

    private func run(
        tool: QlikTool, context: ToolContext, span: any Span, handles: (ok: Counter, error: Counter), start: ContinuousClock.Instant,
        _ body: () async -> CachedCall
    ) async throws -> CallTool.Result {
        let sessionID = context.sessionID
        span.attributes["qlik_mcp.toolset"] = tool.toolset
        let traceID = span.context.spanContext?.traceID.description
        let result: CallTool.Result
        let outcome: String
        var failed: ToolError?
        let call = await body()
        let cache = call.report
        if let cache {
            span.attributes["qlik_mcp.cache.result"] = cache.outcome.rawValue
            if let tier = cache.tier { span.attributes["qlik_mcp.cache.tier"] = tier.rawValue }
        }
        do {
            let output = try call.outcome.get()
            outcome = "ok"
            let structured: Value? = ValueBridge.value(output.structured)
            result = CallTool.Result(
                content: [.text(text: output.text, annotations: nil, _meta: nil)],
                structuredContent: structured, isError: false,
                _meta: Self.meta(start: start, traceID: traceID, cache: cache, replay: call.idempotentReplay))
        } catch {
            if let argument = error as? ArgumentError {
                handles.error.increment()
                throw argument
            }
            let failure = ToolError.from(error)
            failed = failure
            outcome = "error"
            errorCounter(tool: tool.name, category: failure.category).increment()
            // OTel MCP conventions: a tool result with isError is `error.type=tool_error`; the
            // taxonomy code and category say which.
            span.attributes[SemanticAttributes.errorType] = "tool_error"
            span.attributes["qlik_mcp.error.code"] = failure.code
            span.attributes["qlik_mcp.error.category"] = failure.category.rawValue
            span.setStatus(.init(code: .error, message: failure.message))
            let structured: Value? = ValueBridge.value(failure.json)
            result = CallTool.Result(
                content: [.text(text: "Error (\(failure.category.rawValue)): \(failure.message). \(failure.remediation)", annotations: nil, _meta: nil)],
                structuredContent: structured, isError: true,
                _meta: Self.meta(start: start, traceID: traceID, cache: cache))
        }
        let elapsed = ContinuousClock.now - start
        (outcome == "ok" ? handles.ok : handles.error).increment()
        var metadata: Logger.Metadata = [
            SemanticAttributes.genAIToolName: .string(tool.name), "qlik_mcp.toolset": .string(tool.toolset), "qlik_mcp.outcome": .string(outcome),
            "qlik_mcp.duration_ms": .stringConvertible((elapsed.seconds * 1_000_000).rounded() / 1000), SemanticAttributes.mcpSessionID: .string(sessionID),
        ]
        if let cache { metadata["qlik_mcp.cache.result"] = .string(cache.outcome.rawValue) }
        if let failed {
            // `error.type` as on the span; the taxonomy code says which error, the category how to react.
            metadata[SemanticAttributes.errorType] = "tool_error"
            metadata["qlik_mcp.error.code"] = .string(failed.code)
            metadata["qlik_mcp.error.category"] = .string(failed.category.rawValue)
            metadata["qlik_mcp.error.retryable"] = .stringConvertible(failed.retryable)
        }
        logger.info("tool call", metadata: metadata)
        return result
    }

    private static func meta(start: ContinuousClock.Instant, traceID: String?, cache: CacheReport?, replay: Bool = false) -> Metadata {
        var fields: [String: Value] = ["durationMs": .double(((ContinuousClock.now - start).seconds * 1000 * 1000).rounded() / 1000)]
        if replay { fields["idempotentReplay"] = .bool(true) }
        if let traceID { fields["traceId"] = .string(traceID) }
        if let cache {
            fields["cache"] = .string(cache.outcome.rawValue)
            if let tier = cache.tier { fields["cacheTier"] = .string(tier.rawValue) }
            if let age = cache.ageSeconds { fields["cacheAgeSeconds"] = .double((age * 1000).rounded() / 1000) }
            if let reason = cache.reason { fields["cacheBypassReason"] = .string(reason) }
        }
        return Metadata(additionalFields: fields)
    }
}
