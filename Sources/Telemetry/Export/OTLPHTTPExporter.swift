import CoreMetrics
import Foundation
import Logging
import Metrics

/// Exports spans as OTLP/HTTP protobuf (`POST …/v1/traces`, `Content-Type: application/x-protobuf`)
/// through libcurl, retrying 429/502/503/504 and connection failures with backoff (honouring
/// `Retry-After`) until the batch's deadline.
///
/// Failures are counted in `qlik_mcp_telemetry_export_failures_total{reason}` once per batch and logged at
/// most once per `logInterval`, with the number of failures since the last message.
public final class OTLPHTTPExporter: SpanExporter, @unchecked Sendable {
    public let configuration: OTLPExporterConfiguration
    public let resource: TelemetryResource
    private let client = CurlHTTPClient()
    private let lock = NSLock()
    private let retry: RetryPolicy
    private let failureCounters: FailureCounters
    private let retryCounter: Counter
    private let logger: Logger
    private let logInterval: Duration
    private var lastFailureLog: ContinuousClock.Instant?
    private var suppressedFailures = 0

    public init(
        configuration: OTLPExporterConfiguration,
        resource: TelemetryResource,
        metricsFactory: any MetricsFactory,
        logger: Logger = Logger(label: "qlik-mcp.telemetry"),
        logInterval: Duration = .seconds(60)
    ) {
        self.configuration = configuration
        self.resource = resource
        self.retry = RetryPolicy(initialBackoff: configuration.initialBackoff, maxBackoff: configuration.maxBackoff)
        self.failureCounters = FailureCounters(factory: metricsFactory)
        self.retryCounter = Counter(label: "qlik_mcp_telemetry_export_retries_total", factory: metricsFactory)
        self.logger = logger
        self.logInterval = logInterval
    }

    public func export(_ spans: [SpanRecord], control: ExportControl) -> ExportResult {
        guard !spans.isEmpty else { return .success }
        let body: Data
        do {
            body = try OTLPEncoding.encodeRequest(spans, resource: resource)
        } catch {
            return fail(reason: "encoding", detail: "could not encode \(spans.count) spans: \(error)", spans: spans.count)
        }
        let headers = [("Content-Type", "application/x-protobuf")] + configuration.headers
        let tls = CurlHTTPClient.TLSFiles(
            caFile: configuration.caFile,
            clientCertificateFile: configuration.clientCertificateFile,
            clientKeyFile: configuration.clientKeyFile)
        lock.lock()
        defer { lock.unlock() }
        var attempt = 0
        while true {
            attempt += 1
            let budget = min(configuration.timeout, control.remaining)
            guard budget > .zero else {
                return fail(reason: "timeout", detail: "export deadline passed before attempt \(attempt)", spans: spans.count)
            }
            let reason: String
            let detail: String
            var retryAfter: String?
            do {
                let response = try client.post(url: configuration.tracesURL, headers: headers, body: body, timeout: budget, tls: tls,
                                               shouldAbort: { control.remaining <= .zero })
                if (200..<300).contains(response.status) { return .success }
                reason = response.status >= 500 ? "http_5xx" : (response.status == 429 ? "http_429" : "http_4xx")
                let message = String(decoding: response.body.prefix(200), as: UTF8.self)
                detail = "collector answered HTTP \(response.status)\(message.isEmpty ? "" : ": \(message)")"
                guard RetryPolicy.retryableStatuses.contains(response.status) else {
                    return fail(reason: reason, detail: detail, spans: spans.count)
                }
                retryAfter = response.headers["retry-after"]
            } catch let failure as CurlHTTPClient.Failure {
                reason = failure.isTimeout ? "timeout" : "connection"
                detail = "POST \(configuration.tracesURL) failed: \(failure.message)"
                if failure.isTimeout && control.remaining <= .zero {
                    return fail(reason: reason, detail: detail, spans: spans.count)
                }
            } catch {
                return fail(reason: "connection", detail: "\(error)", spans: spans.count)
            }
            guard attempt < configuration.maxAttempts else {
                return fail(reason: reason, detail: detail + " (gave up after \(attempt) attempts)", spans: spans.count)
            }
            let delay = retry.delay(afterAttempt: attempt, retryAfter: retryAfter)
            retryCounter.increment()
            guard control.sleep(for: delay) else {
                return fail(reason: reason, detail: detail + " (no time left to retry before the deadline)", spans: spans.count)
            }
        }
    }

    private func fail(reason: String, detail: String, spans: Int) -> ExportResult {
        failureCounters.counter(for: reason).increment()
        let now = ContinuousClock.now
        if let last = lastFailureLog, now - last < logInterval {
            suppressedFailures += 1
        } else {
            logger.warning("span export failed", metadata: [
                "error.type": .string(reason),
                "error.message": .string(detail),
                "qlik_mcp.otlp.spans": .stringConvertible(spans),
                "qlik_mcp.otlp.suppressed_since_last": .stringConvertible(suppressedFailures),
            ])
            lastFailureLog = now
            suppressedFailures = 0
        }
        return .failure(reason: reason)
    }
}

/// `qlik_mcp_telemetry_export_failures_total{reason}` handles, created once per bounded reason.
private struct FailureCounters {
    static let reasons = ["connection", "timeout", "http_429", "http_4xx", "http_5xx", "encoding"]
    private let counters: [String: Counter]

    init(factory: any MetricsFactory) {
        var counters: [String: Counter] = [:]
        for reason in Self.reasons {
            counters[reason] = Counter(label: "qlik_mcp_telemetry_export_failures_total", dimensions: [("reason", reason)], factory: factory)
        }
        self.counters = counters
    }

    func counter(for reason: String) -> Counter {
        counters[reason] ?? counters["connection"]!
    }
}
