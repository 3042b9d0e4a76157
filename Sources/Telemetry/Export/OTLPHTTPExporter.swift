import CoreMetrics
import Foundation
import Logging

/// Exports spans as OTLP/HTTP protobuf (`POST …/v1/traces`, `Content-Type: application/x-protobuf`,
/// gzip when configured) through `OTLPHTTPSender`.
public final class OTLPHTTPExporter: SpanExporter, Sendable {
    public let configuration: OTLPExporterConfiguration
    public let resource: TelemetryResource
    private let sender: OTLPHTTPSender

    public init(
        configuration: OTLPExporterConfiguration,
        resource: TelemetryResource,
        metricsFactory: any MetricsFactory,
        logger: Logger = Logger(label: "qlik-mcp.telemetry"),
        logInterval: Duration = .seconds(60)
    ) {
        self.configuration = configuration
        self.resource = resource
        self.sender = OTLPHTTPSender(configuration: configuration, signal: "traces", metricsFactory: metricsFactory, logger: logger, logInterval: logInterval)
    }

    public func export(_ spans: [SpanRecord], control: ExportControl) -> ExportResult {
        sender.send(items: spans.count, control: control) { try OTLPEncoding.encodeRequest(spans, resource: resource) }
    }
}
