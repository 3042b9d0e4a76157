import Foundation

/// The OpenTelemetry resource describing this process: `service.name`, `service.version`,
/// `service.instance.id`, `host.name`, `process.pid`, plus `OTEL_RESOURCE_ATTRIBUTES`.
public struct TelemetryResource: Sendable, Equatable {
    public var attributes: [String: String]

    public var serviceName: String { attributes["service.name"] ?? "qlik-mcp" }
    public var serviceVersion: String { attributes["service.version"] ?? QlikMCPVersion.current }

    public init(attributes: [String: String]) {
        self.attributes = attributes
    }

    /// Builds the resource from the environment. `OTEL_SERVICE_NAME` wins over a `service.name`
    /// in `OTEL_RESOURCE_ATTRIBUTES`, as the specification says.
    public static func fromEnvironment(_ environment: [String: String]) throws -> TelemetryResource {
        var attributes: [String: String] = [
            "service.name": "qlik-mcp",
            "service.version": QlikMCPVersion.current,
            "service.instance.id": UUID().uuidString.lowercased(),
            "host.name": ProcessInfo.processInfo.hostName,
            "process.pid": String(getpid()),
            "telemetry.sdk.name": "qlik-mcp",
            "telemetry.sdk.language": "swift",
        ]
        if let raw = environment["OTEL_RESOURCE_ATTRIBUTES"], !raw.isEmpty {
            for (key, value) in try KeyValueList.parse(raw, variable: "OTEL_RESOURCE_ATTRIBUTES") {
                attributes[key] = value
            }
        }
        if let name = environment["OTEL_SERVICE_NAME"], !name.isEmpty {
            attributes["service.name"] = name
        }
        return TelemetryResource(attributes: attributes)
    }
}

/// Parses the W3C-baggage-like `key=value,key2=value2` lists used by `OTEL_RESOURCE_ATTRIBUTES`
/// and `OTEL_EXPORTER_OTLP_HEADERS` (values percent-decoded).
enum KeyValueList {
    static func parse(_ raw: String, variable: String) throws -> [(String, String)] {
        try raw.split(separator: ",", omittingEmptySubsequences: true).map { member in
            guard let equals = member.firstIndex(of: "=") else {
                throw TelemetryConfigurationError.invalid(
                    variable: variable, value: String(member),
                    expected: "comma-separated key=value pairs, e.g. deployment.environment=prod,team=bi")
            }
            let key = member[..<equals].trimmingCharacters(in: .whitespaces)
            let rawValue = member[member.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            guard !key.isEmpty else {
                throw TelemetryConfigurationError.invalid(variable: variable, value: String(member), expected: "a non-empty key before '='")
            }
            return (key, rawValue.removingPercentEncoding ?? rawValue)
        }
    }
}
