import Foundation
import Logging
import MCP
import Metrics
import JSONCore
import Synchronization
import Telemetry
import Tracing

/// Per-call instrumentation of tools: a `tools/call <name>` span (QIX spans nest under it), one
/// log line, `mcp_tool_calls_total{tool,toolset,outcome}` and
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
    private let handles = Mutex<[String: (ok: Counter, error: Counter, timer: Metrics.Timer)]>([:])
    private let appCounters = Mutex<[String: Counter]>([:])
    /// Distinct app ids given their own `qlik_app_access_total` series; later ones count as `other`.
    static let maxTrackedApps = 50

    private let errorCounters = Mutex<[String: Counter]>([:])

    /// `mcp_tool_errors_total{tool,category}`: failures by taxonomy category (8 categories per tool).
    private func errorCounter(tool: String, category: ToolError.Category) -> Counter {
        errorCounters.withLock { cache in
            let key = tool + "/" + category.rawValue
            if let cached = cache[key] { return cached }
            let created = makeCounter("mcp_tool_errors_total", [("tool", tool), ("category", category.rawValue)])
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

    private func metrics(_ tool: QlikTool) -> (ok: Counter, error: Counter, timer: Metrics.Timer) {
        handles.withLock { cache in
            if let cached = cache[tool.name] { return cached }
            let timerDimensions = [("tool", tool.name)]
            let entry = (makeCounter("mcp_tool_calls_total", [("tool", tool.name), ("toolset", tool.toolset), ("outcome", "ok")]),
                         makeCounter("mcp_tool_calls_total", [("tool", tool.name), ("toolset", tool.toolset), ("outcome", "error")]),
                         factory.map { Metrics.Timer(label: "mcp_tool_call_duration_seconds", dimensions: timerDimensions, factory: $0) }
                             ?? Metrics.Timer(label: "mcp_tool_call_duration_seconds", dimensions: timerDimensions))
            cache[tool.name] = entry
            return entry
        }
    }

    /// Runs `body`; an `ArgumentError` it throws (an argument only the handler can judge, such as
    /// a cursor) is rethrown as a protocol error, every other error becomes an `isError` result.
    func run(tool: QlikTool, context: ToolContext, _ body: () async throws -> ToolOutput) async throws -> CallTool.Result {
        let sessionID = context.sessionID
        let handles = metrics(tool)
        let start = ContinuousClock.now
        return try await InstrumentationSystem.tracer.withSpan("tools/call \(tool.name)", ofKind: .server) { (span: any Span) async throws -> CallTool.Result in
            span.attributes["gen_ai.tool.name"] = tool.name
            span.attributes["mcp.method.name"] = "tools/call"
            span.attributes["mcp.session.id"] = sessionID
            for (key, value) in context.callAttributes { span.attributes[key] = value }
            let traceID = span.context.spanContext?.traceID.description
            let result: CallTool.Result
            let outcome: String
            do {
                let output = try await body()
                outcome = "ok"
                let structured: Value? = ValueBridge.value(output.structured)
                result = CallTool.Result(content: [.text(text: output.text, annotations: nil, _meta: nil)],
                                         structuredContent: structured, isError: false,
                                         _meta: Self.meta(start: start, traceID: traceID))
            } catch {
                if let argument = error as? ArgumentError {
                    handles.error.increment()
                    throw argument
                }
                let failure = ToolError.from(error)
                outcome = "error"
                errorCounter(tool: tool.name, category: failure.category).increment()
                span.attributes["error.type"] = failure.code
                span.setStatus(.init(code: .error, message: failure.message))
                let structured: Value? = ValueBridge.value(failure.json)
                result = CallTool.Result(content: [.text(text: "Error (\(failure.category.rawValue)): \(failure.message). \(failure.remediation)", annotations: nil, _meta: nil)],
                                         structuredContent: structured, isError: true,
                                         _meta: Self.meta(start: start, traceID: traceID))
            }
            let elapsed = ContinuousClock.now - start
            handles.timer.record(duration: elapsed)
            (outcome == "ok" ? handles.ok : handles.error).increment()
            logger.info("tool call", metadata: [
                "tool": .string(tool.name), "toolset": .string(tool.toolset), "outcome": .string(outcome),
                "duration_ms": .string(String(format: "%.3f", elapsed.seconds * 1000)), "session_id": .string(sessionID),
            ])
            return result
        }
    }

    private static func meta(start: ContinuousClock.Instant, traceID: String?) -> Metadata {
        var fields: [String: Value] = ["durationMs": .double(((ContinuousClock.now - start).seconds * 1000 * 1000).rounded() / 1000)]
        if let traceID { fields["traceId"] = .string(traceID) }
        return Metadata(additionalFields: fields)
    }
}

