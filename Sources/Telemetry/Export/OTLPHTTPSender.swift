import CoreMetrics
import Foundation
import Logging
import Metrics

/// POSTs one OTLP/HTTP protobuf request body (traces or logs) through libcurl, gzip-compressed when
/// configured, retrying 429/502/503/504 and connection failures with backoff (honouring
/// `Retry-After`) until the batch's deadline. Shared by the span and the log exporters.
///
/// Failures are counted in `qlik_mcp_telemetry_export_failures_total{signal,reason}` once per batch
/// and logged at most once per `logInterval`, with the number of failures since the last message.
final class OTLPHTTPSender: @unchecked Sendable {
    let configuration: OTLPExporterConfiguration
    /// `traces` or `logs`: the metric label and the word in log lines.
    let signal: String
    private let client = CurlHTTPClient()
    private let lock = NSLock()
    private let retry: RetryPolicy
    private let failureCounters: FailureCounters
    private let retryCounter: Counter
    private let logger: Logger
    private let logInterval: Duration
    private var lastFailureLog: ContinuousClock.Instant?
    private var suppressedFailures = 0

    init(configuration: OTLPExporterConfiguration, signal: String, metricsFactory: any MetricsFactory, logger: Logger, logInterval: Duration) {
        self.configuration = configuration
        self.signal = signal
        self.retry = RetryPolicy(initialBackoff: configuration.initialBackoff, maxBackoff: configuration.maxBackoff)
        self.failureCounters = FailureCounters(signal: signal, factory: metricsFactory)
        self.retryCounter = Counter(label: "qlik_mcp_telemetry_export_retries_total", dimensions: [("signal", signal)], factory: metricsFactory)
        self.logger = logger
        self.logInterval = logInterval
    }

    /// Sends `encode()`'s body; `items` is the number of spans or log records in it (for the log line).
    func send(items: Int, control: ExportControl, encode: () throws -> Data) -> ExportResult {
        guard items > 0 else { return .success }
        var body: Data
        do {
            body = try encode()
            if configuration.gzip { body = try Gzip.compress(body) }
        } catch {
            return fail(reason: "encoding", detail: "could not encode \(items) \(signal) records: \(error)", items: items)
        }
        var headers = [("Content-Type", "application/x-protobuf")]
        if configuration.gzip { headers.append(("Content-Encoding", "gzip")) }
        headers += configuration.headers
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
                return fail(reason: "timeout", detail: "export deadline passed before attempt \(attempt)", items: items)
            }
            let reason: String
            let detail: String
            var retryAfter: String?
            do {
                let response = try client.post(
                    url: configuration.url, headers: headers, body: body, timeout: budget, tls: tls,
                    shouldAbort: { control.remaining <= .zero })
                if (200..<300).contains(response.status) { return .success }
                reason = response.status >= 500 ? "http_5xx" : (response.status == 429 ? "http_429" : "http_4xx")
                let message = String(decoding: response.body.prefix(200), as: UTF8.self)
                detail = "collector answered HTTP \(response.status)\(message.isEmpty ? "" : ": \(message)")"
                guard RetryPolicy.retryableStatuses.contains(response.status) else {
                    return fail(reason: reason, detail: detail, items: items)
                }
                retryAfter = response.headers["retry-after"]
            } catch let failure as CurlHTTPClient.Failure {
                reason = failure.isTimeout ? "timeout" : "connection"
                detail = "POST \(configuration.url) failed: \(failure.message)"
                if failure.isTimeout && control.remaining <= .zero {
                    return fail(reason: reason, detail: detail, items: items)
                }
            } catch {
                return fail(reason: "connection", detail: "\(error)", items: items)
            }
            guard attempt < configuration.maxAttempts else {
                return fail(reason: reason, detail: detail + " (gave up after \(attempt) attempts)", items: items)
            }
            let delay = retry.delay(afterAttempt: attempt, retryAfter: retryAfter)
            retryCounter.increment()
            guard control.sleep(for: delay) else {
                return fail(reason: reason, detail: detail + " (no time left to retry before the deadline)", items: items)
            }
        }
    }

    private func fail(reason: String, detail: String, items: Int) -> ExportResult {
        failureCounters.counter(for: reason).increment()
        let now = ContinuousClock.now
        if let last = lastFailureLog, now - last < logInterval {
            suppressedFailures += 1
        } else {
            // A log-export failure must not feed the log exporter it is about (a loop): the
            // logger of the log exporter writes to stderr only (see TelemetrySystem).
            logger.warning(
                "\(signal == "traces" ? "span" : "log record") export failed",
                metadata: [
                    "error.type": .string(reason),
                    "error.message": .string(detail),
                    "qlik_mcp.otlp.signal": .string(signal),
                    "qlik_mcp.otlp.items": .stringConvertible(items),
                    "qlik_mcp.otlp.suppressed_since_last": .stringConvertible(suppressedFailures),
                ])
            lastFailureLog = now
            suppressedFailures = 0
        }
        return .failure(reason: reason)
    }
}

/// `qlik_mcp_telemetry_export_failures_total{signal,reason}` handles, created once per bounded reason.
private struct FailureCounters {
    static let reasons = ["connection", "timeout", "http_429", "http_4xx", "http_5xx", "encoding"]
    private let counters: [String: Counter]

    init(signal: String, factory: any MetricsFactory) {
        var counters: [String: Counter] = [:]
        for reason in Self.reasons {
            counters[reason] = Counter(label: "qlik_mcp_telemetry_export_failures_total", dimensions: [("signal", signal), ("reason", reason)], factory: factory)
        }
        self.counters = counters
    }

    func counter(for reason: String) -> Counter {
        counters[reason] ?? counters["connection"]!
    }
}
