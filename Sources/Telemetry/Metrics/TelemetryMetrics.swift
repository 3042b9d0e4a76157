import CoreMetrics
import Prometheus

/// The metrics half of the telemetry core: one Prometheus registry, the swift-metrics factory that
/// feeds it, `qlik_mcp_build_info`, the process collector, and the text exposition renderer.
public final class TelemetryMetrics: Sendable {
    /// `Content-Type` of the exposition (Prometheus text format 0.0.4).
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    public let registry: PrometheusCollectorRegistry
    public let factory: QlikMetricsFactory
    private let process: ProcessMetricsCollector

    public init(version: String = QlikMCPVersion.current) {
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        self.factory = QlikMetricsFactory(registry: registry)
        self.process = ProcessMetricsCollector(registry: registry)
        #if swift(>=6.3)
            let swiftVersion = "6.3"
        #else
            let swiftVersion = "6"
        #endif
        registry.makeGauge(
            descriptor: MetricCatalog.descriptor("qlik_mcp_build_info"),
            labels: [("version", version), ("swift_version", swiftVersion)]
        ).set(to: 1)
    }

    /// Renders every family in Prometheus text format 0.0.4 (process metrics sampled now).
    public func render() -> String {
        process.update()
        return registry.emitToString()
    }
}
