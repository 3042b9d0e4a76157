import CoreMetrics
import Foundation
import Logging

/// Exports log records as OTLP/HTTP protobuf (`POST …/v1/logs`, gzip when configured) through
/// `OTLPHTTPSender`. Its own failures are logged by a logger that writes to stderr only, never
/// back into this exporter.
public final class OTLPLogExporter: Sendable {
    public let configuration: OTLPExporterConfiguration
    public let resource: TelemetryResource
    private let sender: OTLPHTTPSender

    public init(
        configuration: OTLPExporterConfiguration, resource: TelemetryResource, metricsFactory: any MetricsFactory,
        logger: Logger, logInterval: Duration = .seconds(60)
    ) {
        self.configuration = configuration
        self.resource = resource
        self.sender = OTLPHTTPSender(configuration: configuration, signal: "logs", metricsFactory: metricsFactory, logger: logger, logInterval: logInterval)
    }

    public func export(_ records: [LogRecordData], control: ExportControl) -> ExportResult {
        sender.send(items: records.count, control: control) { try OTLPEncoding.encodeLogsRequest(records, resource: resource) }
    }
}
