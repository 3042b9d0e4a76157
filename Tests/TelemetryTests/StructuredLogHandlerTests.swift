import Foundation
import Logging
import ServiceContextModule
import Testing
import Tracing

@testable import Telemetry

@Suite("structured log handler")
struct StructuredLogHandlerTests {
    private func makeLogger(_ sink: MemoryLogSink, level: Logger.Level = .info, format: LogFormat = .json, metrics: TelemetryMetrics? = nil) -> Logger {
        let resource = TelemetryResource(attributes: ["service.name": "qlik-mcp", "service.version": "9.9.9", "service.instance.id": "inst-1"])
        return Logger(label: "test.logger") {
            StructuredLogHandler(label: $0, level: level, format: format, resource: resource, sink: sink, metricsFactory: metrics?.factory)
        }
    }

    @Test("each line is one JSON object in OpenTelemetry names; absent fields are omitted; numbers and booleans are typed")
    func fixedFields() throws {
        let sink = MemoryLogSink()
        let logger = makeLogger(sink)
        logger.info(
            "hello \"world\"\nsecond line",
            metadata: [
                "rows": .stringConvertible(42), "qlik_mcp.duration_ms": .stringConvertible(12.5), "qlik_mcp.outcome": "ok",
                "server.port": .stringConvertible(UInt16(8080)), "flag": .stringConvertible(true), "text_number": "42", "nan": .stringConvertible(Double.nan),
            ])
        let lines = sink.contents
        #expect(lines.count == 1)
        #expect(!lines[0].contains("\n"))
        #expect(!lines[0].contains("null"))
        let json = try parseJSONLine(lines[0])
        #expect(json["severity_text"] as? String == "INFO")
        #expect(json["severity_number"] as? Int == 9)
        #expect(json["otel.scope.name"] as? String == "test.logger")
        #expect(json["body"] as? String == "hello \"world\"\nsecond line")
        #expect(json["service.name"] as? String == "qlik-mcp")
        #expect(json["service.version"] as? String == "9.9.9")
        #expect(json["service.instance.id"] as? String == "inst-1")
        #expect(json["qlik_mcp.duration_ms"] as? Double == 12.5)
        #expect(json["rows"] as? Int == 42)
        #expect(json["server.port"] as? Int == 8080)
        #expect(lines[0].contains(#""flag":true"#) && lines[0].contains(#""rows":42"#) && lines[0].contains(#""server.port":8080"#))
        #expect(json["text_number"] as? String == "42", "a .string value stays a string")
        #expect(json["nan"] as? String == "nan", "NaN cannot be a JSON number")
        #expect(json["qlik_mcp.outcome"] as? String == "ok")
        #expect(json["trace_id"] == nil && json["span_id"] == nil && json["code.file.path"] == nil)
        let ts = try #require(json["timestamp"] as? String)
        #expect(ts.count == 24 && ts.hasSuffix("Z"))
        let parsed = ISO8601DateFormatter()
        parsed.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let date = try #require(parsed.date(from: ts))
        #expect(abs(date.timeIntervalSinceNow) < 60)
    }

    @Test("ECS format: Elastic names for the envelope, the same attribute keys")
    func ecs() throws {
        let sink = MemoryLogSink()
        let logger = makeLogger(sink, format: .ecs)
        let tracer = QlikTracer(sampler: .alwaysOn, processor: InMemorySpanProcessor())
        tracer.withSpan("op") { _ in logger.error("failed", metadata: ["error.type": "tool_error"]) }
        let json = try parseJSONLine(try #require(sink.contents.first))
        #expect(json["@timestamp"] is String)
        #expect(json["log.level"] as? String == "error")
        #expect(json["message"] as? String == "failed")
        #expect(json["log.logger"] as? String == "test.logger")
        #expect(json["service.node.name"] as? String == "inst-1")
        #expect(json["ecs.version"] as? String == "8.11.0")
        #expect((json["trace.id"] as? String)?.count == 32)
        #expect((json["span.id"] as? String)?.count == 16)
        #expect(json["error.type"] as? String == "tool_error")
        #expect((json["log.origin.file.name"] as? String)?.contains("StructuredLogHandlerTests.swift") == true)
        #expect(json["log.origin.file.line"] is Int)
        #expect(json["severity_text"] == nil && json["body"] == nil)
    }

    @Test("text format: one readable line with the level, logger, message and sorted attributes")
    func text() throws {
        let sink = MemoryLogSink()
        makeLogger(sink, format: .text).warning("engine slow", metadata: ["b.key": "two words", "a.key": .stringConvertible(3)])
        let line = try #require(sink.contents.first)
        #expect(line.contains("WARNING test.logger: engine slow a.key=3 b.key=\"two words\""), "\(line)")
        #expect(!line.hasPrefix("{"))
    }

    @Test("a bad log format names the accepted values")
    func badFormat() {
        #expect(throws: TelemetryConfigurationError.self) { try TelemetryConfiguration.fromEnvironment(["QLIK_MCP_LOG_FORMAT": "xml"]) }
        #expect((try? TelemetryConfiguration.fromEnvironment(["QLIK_MCP_LOG_FORMAT": "ECS"]))?.logFormat == .ecs)
        #expect((try? TelemetryConfiguration.fromEnvironment([:], logFormat: "text"))?.logFormat == .text)
    }

    @Test("ids of the active span and the request context appear without being passed, under the span attribute names")
    func contextIDs() throws {
        let sink = MemoryLogSink()
        let logger = makeLogger(sink)
        let tracer = QlikTracer(sampler: .alwaysOn, processor: InMemorySpanProcessor())
        var context = ServiceContext.topLevel
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
        #expect(json["mcp.session.id"] as? String == "sess-1")
        #expect(json["gen_ai.tool.name"] as? String == "list_measures")
        #expect(json["correlation_id"] == nil)
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
        logger.warning(
            "login by jane@example.com",
            metadata: [
                "password": "hunter2",
                "client": .dictionary(["ip": "192.168.1.9", "api_key": "abc"]),
                "recipients": .array(["a@b.org", "plain"]),
            ])
        let line = try #require(sink.contents.first)
        #expect(!line.contains("jane@example.com") && !line.contains("hunter2") && !line.contains("192.168.1.9") && !line.contains("a@b.org"))
        let json = try parseJSONLine(line)
        #expect(json["body"] as? String == "login by [REDACTED:email]")
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
        #expect((error["code.file.path"] as? String)?.contains("StructuredLogHandlerTests.swift") == true)
        #expect(error["code.line.number"] is Int)
        #expect(error["code.function.name"] is String)
        #expect(error["severity_number"] as? Int == 17)
        let text = metrics.render()
        #expect(text.contains(#"qlik_mcp_log_lines_total{level="warning"} 1"#))
        #expect(text.contains(#"qlik_mcp_log_lines_total{level="error"} 1"#))
        #expect(text.contains(#"qlik_mcp_log_lines_total{level="info"} 0"#))
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
        #expect(json["body"] as? String == "bell\u{07} tab\t nul\u{00} done")
    }
}
