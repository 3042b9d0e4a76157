import ArgumentParser
import Foundation
import Logging
import Metrics
import Telemetry
import Tracing

/// `qlik-mcp telemetry …`: inspect and check the instrumentation core.
struct TelemetryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "telemetry",
        abstract: "Check the instrumentation core: logs, metrics and OTLP span export.",
        subcommands: [SelfTest.self, MetricsDump.self]
    )

    /// `qlik-mcp telemetry selftest`
    struct SelfTest: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "selftest",
            abstract: "Emit one log line, one metric sample and one span, export the span, and report.",
            discussion: """
                The span goes to the OTLP/HTTP endpoint from --otlp-endpoint or the OTEL_EXPORTER_OTLP_* \
                variables. Exits non-zero when an endpoint is configured and the export fails.

                Example: qlik-mcp telemetry selftest --otlp-endpoint http://127.0.0.1:4318
                """
        )

        @OptionGroup var telemetry: TelemetryOptions

        @Option(help: ArgumentHelp("OTLP/HTTP base URL; spans go to <url>/v1/traces. Overrides OTEL_EXPORTER_OTLP_ENDPOINT.", valueName: "url"))
        var otlpEndpoint: String?

        @Option(help: ArgumentHelp("Seconds to wait for the export before giving up.", valueName: "seconds"))
        var timeout: Double = 10

        func run() async throws {
            var overrides: [String: String] = [:]
            if let otlpEndpoint {
                overrides["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlpEndpoint
                overrides["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = ""
            }
            guard timeout > 0, timeout <= 600 else { throw ValidationError("--timeout must be between 0 and 600 seconds") }
            let system = try TelemetrySystem(configuration: telemetry.makeConfiguration(extraEnvironment: overrides))
            let logger = Logger(label: "qlik-mcp.selftest") { system.makeLogHandler(label: $0) }
            let counter = Counter(label: "qlik_mcp_telemetry_selftest_total", factory: system.metrics.factory)

            var traceID = ""
            var spanID = ""
            system.tracer.withSpan("telemetry selftest", ofKind: .internal) { span in
                span.attributes["qlik_mcp.selftest"] = true
                span.attributes["user.email"] = "canary@example.com"
                span.addEvent("selftest.event")
                traceID = span.spanContext.traceID.description
                spanID = span.spanContext.spanID.description
                logger.info("telemetry self-test", metadata: ["qlik_mcp.outcome": "ok", "contact": "canary@example.com"])
                counter.increment()
            }
            let result = await system.shutdown(timeout: .milliseconds(Int(timeout * 1000)))
            let sample = system.metrics.render().split(separator: "\n").first { $0.hasPrefix("qlik_mcp_telemetry_selftest_total") }

            print("log line:    written to stderr (JSON, PII scrubbed: the canary e-mail appears as [REDACTED:email])")
            print("metric:      \(sample.map(String.init) ?? "missing")")
            print("span:        trace_id=\(traceID) span_id=\(spanID)")
            if let exporter = system.configuration.exporter {
                print("export:      POST \(exporter.url)\(exporter.gzip ? " (gzip)" : "") → \(result.succeeded ? "accepted" : "FAILED (see the warning on stderr)")")
                if let logs = system.configuration.logExporter { print("logs:        POST \(logs.url)\(logs.gzip ? " (gzip)" : "")") }
                if !result.succeeded { throw ExitCode(1) }
            } else {
                print("export:      skipped (no OTLP endpoint; set OTEL_EXPORTER_OTLP_ENDPOINT or --otlp-endpoint)")
            }
        }
    }

    /// `qlik-mcp telemetry metrics`
    struct MetricsDump: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "metrics",
            abstract: "Print this process's metrics in Prometheus text format 0.0.4 (families registered at start-up)."
        )

        func run() throws {
            let system = try TelemetrySystem(configuration: TelemetryOptions().makeConfiguration())
            print(system.metrics.render(), terminator: "")
        }
    }
}
