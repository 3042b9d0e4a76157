import Foundation
import Logging
import ServiceContextModule
import Testing
import Tracing
@testable import Telemetry

@Suite("JSON log handler")
struct JSONLogHandlerTests {
    private func makeLogger(_ sink: MemoryLogSink, level: Logger.Level = .info, metrics: TelemetryMetrics? = nil) -> Logger {
        Logger(label: "test.logger") {
            JSONLogHandler(label: $0, level: level, sink: sink, metricsFactory: metrics?.factory)
        }
    }

    @Test("each line is one JSON object with the fixed fields")
    func fixedFields() throws {
        let sink = MemoryLogSink()
        let logger = makeLogger(sink)
        logger.info("hello \"world\"\nsecond line", metadata: ["rows": "42", "duration_ms": "12.5", "outcome": "ok"])
        let lines = sink.contents
        #expect(lines.count == 1)
        #expect(!lines[0].contains("\n"))
        let json = try parseJSONLine(lines[0])
        for field in ["ts", "level", "logger", "msg"] + JSONLogHandler.wellKnownFields {
            #expect(json.keys.contains(field), "missing \(field)")
        }
        #expect(json["level"] as? String == "info")
        #expect(json["logger"] as? String == "test.logger")
        #expect(json["msg"] as? String == "hello \"world\"\nsecond line")
        #expect(json["duration_ms"] as? Double == 12.5)
        #expect(json["outcome"] as? String == "ok")
        #expect(json["rows"] as? String == "42")
        #expect(json["trace_id"] is NSNull)
        let ts = try #require(json["ts"] as? String)
        #expect(ts.count == 24 && ts.hasSuffix("Z"))
        let parsed = ISO8601DateFormatter()
        parsed.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let date = try #require(parsed.date(from: ts))
        #expect(abs(date.timeIntervalSinceNow) < 60)
    }

    @Test("ids of the active span and the request context appear without being passed")
    func contextIDs() throws {
        let sink = MemoryLogSink()
        let logger = makeLogger(sink)
        let tracer = QlikTracer(sampler: .alwaysOn, processor: InMemorySpanProcessor())
        var context = ServiceContext.topLevel
        context.correlationID = "req-7:sess-1"
        context.mcpSessionID = "sess-1"
        context.toolName = "list_measures"
        var expected: SpanContext?
        ServiceContext.withValue(context) {
            tracer.withSpan("tools/call") { span in
                expected = span.spanContext
                logger.info("inside")
            }
        }
        let json = try parseJSONLine(try #require(sink.contents.first))
        #expect(json["trace_id"] as? String == expected?.traceID.description)
        #expect(json["span_id"] as? String == expected?.spanID.description)
        #expect(json["correlation_id"] as? String == "req-7:sess-1")
        #expect(json["session_id"] as? String == "sess-1")
        #expect(json["tool"] as? String == "list_measures")
    }

    @Test("ids follow child tasks")
    func childTasks() async throws {
        let sink = MemoryLogSink()
        let logger = makeLogger(sink)
        let tracer = QlikTracer(sampler: .alwaysOn, processor: InMemorySpanProcessor())
        let traceID = await tracer.withSpan("parent") { span -> String in
            await withTaskGroup(of: Void.self) { group in
                group.addTask { logger.info("from child task") }
            }
            return span.spanContext.traceID.description
        }
        let json = try parseJSONLine(try #require(sink.contents.first))
        #expect(json["trace_id"] as? String == traceID)
    }

    @Test("messages and metadata are scrubbed, nested values too")
    func scrubbing() throws {
        let sink = MemoryLogSink()
        let logger = makeLogger(sink)
        logger.warning("login by jane@example.com", metadata: [
            "password": "hunter2",
            "client": .dictionary(["ip": "192.168.1.9", "api_key": "abc"]),
            "recipients": .array(["a@b.org", "plain"]),
        ])
        let line = try #require(sink.contents.first)
        #expect(!line.contains("jane@example.com") && !line.contains("hunter2") && !line.contains("192.168.1.9") && !line.contains("a@b.org"))
        let json = try parseJSONLine(line)
        #expect(json["msg"] as? String == "login by [REDACTED:email]")
        #expect(json["password"] as? String == "[REDACTED:password]")
        let client = try #require(json["client"] as? [String: Any])
        #expect(client["ip"] as? String == "[REDACTED:ipv4]")
        #expect(client["api_key"] as? String == "[REDACTED:api_key]")
        #expect(json["recipients"] as? [String] == ["[REDACTED:email]", "plain"])
    }

    @Test("level filtering and the line counter")
    func levels() throws {
        let sink = MemoryLogSink()
        let metrics = TelemetryMetrics()
        let logger = makeLogger(sink, level: .warning, metrics: metrics)
        logger.info("dropped")
        logger.warning("kept")
        logger.error("kept too")
        #expect(sink.contents.count == 2)
        let error = try parseJSONLine(sink.contents[1])
        #expect((error["source"] as? String)?.contains("JSONLogHandlerTests.swift") == true)
        let text = metrics.render()
        #expect(text.contains(#"telemetry_log_lines_total{level="warning"} 1"#))
        #expect(text.contains(#"telemetry_log_lines_total{level="error"} 1"#))
        #expect(text.contains(#"telemetry_log_lines_total{level="info"} 0"#))
    }

    @Test("log level parsing", arguments: [("debug", Logger.Level.debug), ("WARN", .warning), ("Error", .error), ("trace", .trace)])
    func parseLevel(text: String, level: Logger.Level) throws {
        #expect(try Logger.Level.parse(text) == level)
    }

    @Test("a bad log level names the accepted values")
    func badLevel() {
        do {
            _ = try TelemetryConfiguration.fromEnvironment(["QLIK_MCP_LOG_LEVEL": "loud"])
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("QLIK_MCP_LOG_LEVEL='loud'"))
            #expect("\(error)".contains("warning"))
        }
    }

    @Test("control characters are escaped")
    func escaping() throws {
        let sink = MemoryLogSink()
        makeLogger(sink).info("bell\u{07} tab\t nul\u{00} done")
        let json = try parseJSONLine(try #require(sink.contents.first))
        #expect(json["msg"] as? String == "bell\u{07} tab\t nul\u{00} done")
    }
}
