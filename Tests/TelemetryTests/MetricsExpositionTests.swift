import Foundation
import Metrics
import Testing

@testable import Telemetry

/// A parser for the Prometheus text exposition format 0.0.4, strict enough to fail on malformed output.
struct Exposition {
    struct Sample { var name: String; var labels: [String: String]; var value: Double }
    var types: [String: String] = [:]
    var help: [String: String] = [:]
    var samples: [Sample] = []

    init(_ text: String) throws {
        for raw in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let line = String(raw)
            if line.hasPrefix("# HELP ") {
                let parts = line.dropFirst(7).split(separator: " ", maxSplits: 1)
                help[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
            } else if line.hasPrefix("# TYPE ") {
                let parts = line.dropFirst(7).split(separator: " ")
                guard parts.count == 2, ["counter", "gauge", "histogram", "summary", "untyped"].contains(parts[1]) else {
                    throw TestFailure("bad TYPE line: \(line)")
                }
                types[String(parts[0])] = String(parts[1])
            } else if line.hasPrefix("#") {
                continue
            } else {
                samples.append(try Self.sample(line))
            }
        }
    }

    static func sample(_ line: String) throws -> Sample {
        var name = ""
        var labels: [String: String] = [:]
        var rest = Substring(line)
        if let brace = rest.firstIndex(of: "{") {
            name = String(rest[..<brace])
            guard let close = rest.lastIndex(of: "}") else { throw TestFailure("unclosed labels: \(line)") }
            let body = rest[rest.index(after: brace)..<close]
            var index = body.startIndex
            while index < body.endIndex {
                guard let equals = body[index...].firstIndex(of: "="), body[body.index(after: equals)] == "\"" else {
                    throw TestFailure("bad label in: \(line)")
                }
                let key = String(body[index..<equals])
                var cursor = body.index(equals, offsetBy: 2)
                var value = ""
                while body[cursor] != "\"" {
                    if body[cursor] == "\\" { cursor = body.index(after: cursor) }
                    value.append(body[cursor])
                    cursor = body.index(after: cursor)
                }
                labels[key] = value
                index = body.index(after: cursor)
                if index < body.endIndex && body[index] == "," { index = body.index(after: index) }
            }
            rest = rest[rest.index(after: close)...]
        } else {
            guard let space = rest.firstIndex(of: " ") else { throw TestFailure("no value: \(line)") }
            name = String(rest[..<space])
            rest = rest[space...]
        }
        guard name.range(of: "^[a-zA-Z_:][a-zA-Z0-9_:]*$", options: .regularExpression) != nil else {
            throw TestFailure("bad metric name: \(line)")
        }
        let valueText = rest.trimmingCharacters(in: .whitespaces).split(separator: " ").first.map(String.init) ?? ""
        guard let value = Double(valueText.replacingOccurrences(of: "+Inf", with: "inf")) else {
            throw TestFailure("bad value: \(line)")
        }
        return Sample(name: name, labels: labels, value: value)
    }

    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { sample in sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value } }?.value
    }
}

@Suite("Prometheus metrics")
struct MetricsExpositionTests {
    @Test("exposition parses and holds the telemetry families with types and HELP")
    func families() throws {
        let metrics = TelemetryMetrics(version: "9.9.9")
        let processor = BatchSpanProcessor(exporter: nil, metricsFactory: metrics.factory)
        _ = processor
        let text = metrics.render()
        let exposition = try Exposition(text)
        let expected: [String: String] = [
            "qlik_mcp_build_info": "gauge",
            "process_resident_memory_bytes": "gauge",
            "process_virtual_memory_bytes": "gauge",
            "process_cpu_seconds_total": "counter",
            "process_open_fds": "gauge",
            "process_max_fds": "gauge",
            "process_start_time_seconds": "gauge",
            "qlik_mcp_telemetry_spans_dropped_total": "counter",
            "qlik_mcp_telemetry_spans_exported_total": "counter",
            "qlik_mcp_telemetry_span_queue_length": "gauge",
        ]
        for (family, type) in expected {
            #expect(exposition.types[family] == type, "TYPE of \(family)")
            #expect(!(exposition.help[family] ?? "").isEmpty, "HELP of \(family)")
        }
        #expect(exposition.value("qlik_mcp_build_info", ["version": "9.9.9"]) == 1)
        #expect((exposition.value("process_resident_memory_bytes") ?? 0) > 1_000_000)
        #expect((exposition.value("process_open_fds") ?? 0) >= 3)
        let start = try #require(exposition.value("process_start_time_seconds"))
        #expect(abs(start - Date().timeIntervalSince1970) < 24 * 3600)
    }

    @Test("swift-metrics timers become histograms with buckets from 100 µs to 300 s")
    func histogram() throws {
        let metrics = TelemetryMetrics()
        let timer = Timer(label: "mcp_server_operation_duration_seconds", dimensions: [("mcp_method_name", "tools/call")], factory: metrics.factory)
        timer.recordNanoseconds(300_000)  // 0.3 ms
        timer.recordNanoseconds(2_000_000_000)  // 2 s
        let exposition = try Exposition(metrics.render())
        #expect(exposition.types["mcp_server_operation_duration_seconds"] == "histogram")
        #expect(exposition.help["mcp_server_operation_duration_seconds"]?.contains("mcp.server.operation.duration") == true)
        let buckets = exposition.samples.filter { $0.name == "mcp_server_operation_duration_seconds_bucket" }
        let bounds = buckets.compactMap { Double($0.labels["le"] ?? "") }.sorted()
        #expect(bounds.first == 0.0001)
        #expect(bounds.contains(0.0005) && bounds.contains(2.5) && bounds.contains(30) && bounds.contains(120))
        #expect(bounds.filter(\.isFinite).last == 300, "requests may run 300 s (--request-timeout)")
        #expect(exposition.value("mcp_server_operation_duration_seconds_bucket", ["le": "0.0005"]) == 1)
        #expect(exposition.value("mcp_server_operation_duration_seconds_bucket", ["le": "2.5"]) == 2)
        #expect(exposition.value("mcp_server_operation_duration_seconds_count") == 2)
        let sum = try #require(exposition.value("mcp_server_operation_duration_seconds_sum"))
        #expect(abs(sum - 2.0003) < 1e-6)
    }

    @Test("counters with labels and gauges through swift-metrics")
    func countersAndGauges() throws {
        let metrics = TelemetryMetrics()
        Counter(label: "qix_requests_total", dimensions: [("method", "GetLayout"), ("outcome", "ok")], factory: metrics.factory).increment(by: 3)
        Gauge(label: "qix_connections_active", factory: metrics.factory).record(4)
        let exposition = try Exposition(metrics.render())
        #expect(exposition.types["qix_requests_total"] == "counter")
        #expect(exposition.value("qix_requests_total", ["method": "GetLayout", "outcome": "ok"]) == 3)
        #expect(exposition.value("qix_connections_active") == 4)
    }

    @Test("process CPU seconds only move forward")
    func cpuMonotonic() throws {
        let metrics = TelemetryMetrics()
        let first = try #require(try Exposition(metrics.render()).value("process_cpu_seconds_total"))
        var x = 0.0
        for i in 0..<3_000_000 { x += Double(i).squareRoot() }
        #expect(x > 0)
        let second = try #require(try Exposition(metrics.render()).value("process_cpu_seconds_total"))
        #expect(second >= first)
    }
}
