import Foundation
import Hummingbird
import JSONCore
import Metrics
import NIOCore
import Telemetry
import Tracing

/// `/metrics`, the health probes and (opt-in) `/debug/traces`. Probes answer from memory.
struct OperationalRoutes: Sendable {
    let telemetry: TelemetrySystem
    let health: HealthMonitor
    let debugEndpoints: Bool

    func register<Context: RequestContext>(on router: Router<Context>) {
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: TelemetryMetrics.contentType],
                body: .init(byteBuffer: ByteBuffer(string: telemetry.metrics.render())))
        }
        router.get("/livez") { _, _ in Self.json(.ok, ["status": "alive"]) }
        router.get("/readyz") { _, _ in Self.json(health.isReady ? .ok : .serviceUnavailable, health.report()) }
        router.get("/startupz") { _, _ in
            Self.json(health.isStarted ? .ok : .serviceUnavailable, ["status": .string(health.isStarted ? "started" : "starting")])
        }
        router.get("/healthz") { _, _ in Self.json(health.isReady ? .ok : .serviceUnavailable, health.report()) }
        guard debugEndpoints else { return }
        router.get("/debug/traces") { request, _ in
            let spans = telemetry.ringBuffer.snapshot()
            if request.uri.queryParameters.get("format") == "html" || (request.headers[.accept] ?? "").contains("text/html") {
                return Response(
                    status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                    body: .init(byteBuffer: ByteBuffer(string: DebugTracesPage.html(spans))))
            }
            return Self.json(.ok, DebugTracesPage.json(spans))
        }
    }

    static func json(_ status: HTTPResponse.Status, _ value: JSONValue) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: JSONCoding.serialize(value))))
    }
}

/// Recent spans as JSON and as a small HTML page (traces, newest first, with their span trees).
enum DebugTracesPage {
    static func json(_ spans: [SpanRecord]) -> JSONValue {
        [
            "spans": .array(
                spans.reversed().map { span in
                    var item: [String: JSONValue] = [
                        "trace_id": .string(span.context.traceID.description), "span_id": .string(span.context.spanID.description),
                        "name": .string(span.name), "kind": .string("\(span.kind)"),
                        "start_unix_nanos": .number(Double(span.startNanos)), "duration_ms": .number((span.durationSeconds * 1e6).rounded() / 1000),
                        "status": .string(span.status.map { "\($0.code)" } ?? "unset"),
                    ]
                    item["parent_span_id"] = span.parentSpanID.map { .string($0.description) }
                    var attributes: [String: JSONValue] = [:]
                    span.attributes.forEach { key, value in attributes[key] = json(value) }
                    item["attributes"] = .object(attributes)
                    return .object(item)
                })
        ]
    }

    static func json(_ attribute: SpanAttribute) -> JSONValue {
        switch attribute {
        case .int32(let v): return .number(Double(v))
        case .int64(let v): return .number(Double(v))
        case .double(let v): return .number(v)
        case .bool(let v): return .bool(v)
        case .string(let v): return .string(v)
        case .stringConvertible(let v): return .string(v.description)
        case .int32Array(let v): return .array(v.map { .number(Double($0)) })
        case .int64Array(let v): return .array(v.map { .number(Double($0)) })
        case .doubleArray(let v): return .array(v.map { .number($0) })
        case .boolArray(let v): return .array(v.map { .bool($0) })
        case .stringArray(let v): return .array(v.map { .string($0) })
        case .stringConvertibleArray(let v): return .array(v.map { .string($0.description) })
        default: return .string("\(attribute)")
        }
    }

    static func html(_ spans: [SpanRecord]) -> String {
        var traces: [(String, [SpanRecord])] = []
        for span in spans.reversed() {
            let id = span.context.traceID.description
            if let index = traces.firstIndex(where: { $0.0 == id }) { traces[index].1.append(span) } else { traces.append((id, [span])) }
        }
        var body = "<h1>Recent traces</h1><p>\(spans.count) spans in \(traces.count) traces (newest first; the ring buffer keeps the last spans only).</p>"
        for (traceID, members) in traces.prefix(200) {
            let ids = Set(members.map { $0.context.spanID.description })
            let roots = members.filter { $0.parentSpanID.map { !ids.contains($0.description) } ?? true }
            body += "<details open><summary><code>\(traceID)</code> — \(escape(roots.first?.name ?? "?"))</summary><ul>"
            for root in roots.sorted(by: { $0.startNanos < $1.startNanos }) { body += tree(root, members) }
            body += "</ul></details>"
        }
        return
            "<!doctype html><html><head><meta charset=utf-8><title>qlik-mcp traces</title><style>body{font-family:sans-serif;margin:2em}code{font-size:90%}li{margin:.2em 0}.err{color:#b00}</style></head><body>\(body)</body></html>"
    }

    private static func tree(_ span: SpanRecord, _ all: [SpanRecord]) -> String {
        let failed = span.status.map { "\($0.code)" == "error" } ?? false
        var html = "<li\(failed ? " class=err" : "")>\(escape(span.name)) — \(String(format: "%.3f", span.durationSeconds * 1000)) ms"
        let children = all.filter { $0.parentSpanID == span.context.spanID }.sorted { $0.startNanos < $1.startNanos }
        if !children.isEmpty { html += "<ul>" + children.map { tree($0, all) }.joined() + "</ul>" }
        return html + "</li>"
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
