import Instrumentation
import ServiceContextModule
import Testing
import Tracing

@testable import Telemetry

private struct DictionaryExtractor: Extractor {
    func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
}

private struct DictionaryInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) { carrier[key] = value }
}

private struct SampleError: Error, CustomStringConvertible {
    var description: String { "engine said no to jane@example.com" }
}

@Suite("Tracer")
struct TracerTests {
    @Test(
        "traceparent parsing",
        arguments: [
            ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", true),
            ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", true),
            ("  00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 ", true),
            ("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future", true),
            ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", false),
            ("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", false),
            ("00-00000000000000000000000000000000-00f067aa0ba902b7-01", false),
            ("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", false),
            ("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", false),
            ("00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01", false),
            ("00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", false),
            ("", false),
            ("garbage", false),
        ])
    func parseTraceparent(header: String, valid: Bool) {
        let parsed = W3CPropagation.parse(traceparent: header)
        #expect((parsed != nil) == valid)
        if let parsed {
            #expect(parsed.traceID.description == "4bf92f3577b34da6a3ce929d0e0e4736")
            #expect(parsed.spanID.description == "00f067aa0ba902b7")
            #expect(parsed.isRemote)
        }
    }

    @Test("tracestate within bounds passes; a malformed or oversized one is dropped without losing the traceparent")
    func traceState() {
        let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        #expect(W3CPropagation.parse(traceparent: parent, tracestate: "vendor=abc,other=1")?.traceState == "vendor=abc,other=1")
        for bad in ["no-equals-sign", String(repeating: "a=b,", count: 40), "k=" + String(repeating: "v", count: 600)] {
            let parsed = W3CPropagation.parse(traceparent: parent, tracestate: bad)
            #expect(parsed != nil && parsed?.traceState == nil, "\(bad.prefix(30))")
        }
    }

    @Test("extract → child span → inject keeps the trace, and tracestate passes through")
    func propagation() {
        let collector = InMemorySpanProcessor()
        let tracer = QlikTracer(processor: collector)
        var context = ServiceContext.topLevel
        tracer.extract(
            [
                "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                "tracestate": "vendor=abc,other=1",
            ], into: &context, using: DictionaryExtractor())
        var outgoing: [String: String] = [:]
        tracer.withSpan("server", context: context, ofKind: .server) { span in
            tracer.inject(span.context, into: &outgoing, using: DictionaryInjector())
        }
        let record = try! #require(collector.spans.first)
        #expect(record.context.traceID.description == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(record.parentSpanID?.description == "00f067aa0ba902b7")
        #expect(outgoing["traceparent"] == "00-4bf92f3577b34da6a3ce929d0e0e4736-\(record.context.spanID)-01")
        #expect(outgoing["tracestate"] == "vendor=abc,other=1")
    }

    @Test("parent and child across async boundaries")
    func parentChild() async {
        let collector = InMemorySpanProcessor()
        let tracer = QlikTracer(processor: collector)
        await tracer.withSpan("parent") { parent in
            await withTaskGroup(of: Void.self) { group in
                for index in 0..<3 {
                    group.addTask {
                        await tracer.withSpan("child \(index)") { _ in await Task.yield() }
                    }
                }
            }
            _ = parent
        }
        let spans = collector.spans
        #expect(spans.count == 4)
        let parent = try! #require(spans.first { $0.name == "parent" })
        #expect(parent.parentSpanID == nil)
        let children = spans.filter { $0.name.hasPrefix("child") }
        #expect(children.count == 3)
        #expect(children.allSatisfy { $0.parentSpanID == parent.context.spanID && $0.context.traceID == parent.context.traceID })
        #expect(Set(children.map(\.context.spanID)).count == 3)
    }

    @Test("errors, status, events and links are recorded")
    func errorsAndLinks() throws {
        let collector = InMemorySpanProcessor()
        let tracer = QlikTracer(processor: collector)
        let other = tracer.startSpan("other")
        other.end()
        do {
            try tracer.withSpan("failing") { span in
                span.addLink(other)
                span.addEvent("step")
                throw SampleError()
            }
        } catch {}
        let failing = try #require(collector.spans.first { $0.name == "failing" })
        #expect(failing.status?.code == .error)
        #expect(failing.attributes.get("error.type") == .string(String(reflecting: SampleError.self)))
        let exception = try #require(failing.events.first { $0.name == "exception" })
        #expect(exception.attributes.get("exception.message") == .string("engine said no to jane@example.com"))
        #expect(
            failing.scrubbed(with: .standard).events.first { $0.name == "exception" }?.attributes.get("exception.message")
                == .string("engine said no to [REDACTED:email]"))
        #expect(failing.events.contains { $0.name == "step" })
        #expect(failing.links.first?.context.spanID == other.spanContext.spanID)
    }

    @Test(
        "samplers",
        arguments: [
            (Sampler.alwaysOff, false, nil as Bool?),
            (.alwaysOn, true, nil),
            (.parentBased(root: .alwaysOff), false, nil),
            (.parentBased(root: .alwaysOff), true, true),
            (.parentBased(root: .alwaysOn), false, false),
        ])
    func samplers(sampler: Sampler, expected: Bool, parentSampled: Bool?) {
        let collector = InMemorySpanProcessor()
        let tracer = QlikTracer(sampler: sampler, processor: collector)
        var context = ServiceContext.topLevel
        if let parentSampled {
            context.spanContext = SpanContext(traceID: TraceID(high: 1, low: 2), spanID: SpanID(3), traceFlags: parentSampled ? 1 : 0, isRemote: true)
        }
        let span = tracer.startSpan("s", context: context)
        #expect(span.isRecording == expected)
        #expect(span.spanContext.isSampled == expected)
        span.end()
        #expect(collector.spans.count == (expected ? 1 : 0))
    }

    @Test("trace id ratio sampling keeps roughly the ratio, deterministically per trace")
    func ratio() {
        let sampler = Sampler.traceIDRatio(0.25)
        var generator = SystemRandomNumberGenerator()
        var kept = 0
        for _ in 0..<20_000 {
            let id = TraceID.random(using: &generator)
            let first = sampler.shouldSample(traceID: id, parent: nil)
            #expect(first == sampler.shouldSample(traceID: id, parent: nil))
            if first { kept += 1 }
        }
        #expect((4_400...5_600).contains(kept))
    }

    @Test("sampler from the environment")
    func samplerEnvironment() throws {
        #expect(try Sampler.fromEnvironment([:]) == .parentBased(root: .alwaysOn))
        #expect(
            try Sampler.fromEnvironment(["OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.1"])
                == .parentBased(root: .traceIDRatio(0.1)))
        #expect(throws: TelemetryConfigurationError.self) { try Sampler.fromEnvironment(["OTEL_TRACES_SAMPLER": "sometimes"]) }
        #expect(throws: TelemetryConfigurationError.self) {
            try Sampler.fromEnvironment(["OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "1.5"])
        }
    }

    @Test("ending twice records once; changes after end are ignored")
    func endTwice() {
        let collector = InMemorySpanProcessor()
        let tracer = QlikTracer(processor: collector)
        let span = tracer.startSpan("once")
        span.end()
        span.attributes["late"] = "x"
        span.end()
        #expect(collector.spans.count == 1)
        #expect(collector.spans.first?.attributes.get("late") == nil)
    }

    @Test("ring buffer keeps the newest spans, bounded")
    func ringBuffer() {
        let buffer = SpanRingBuffer(capacity: 3)
        let collector = InMemorySpanProcessor()
        let tracer = QlikTracer(processor: collector)
        for index in 0..<5 { tracer.startSpan("s\(index)").end() }
        buffer.append(contentsOf: collector.spans)
        #expect(buffer.snapshot().map(\.name) == ["s2", "s3", "s4"])
        #expect(buffer.count == 3)
    }
}
