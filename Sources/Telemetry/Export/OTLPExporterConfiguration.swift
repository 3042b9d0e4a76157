import Foundation

/// Where and how spans are exported, read from the standard `OTEL_EXPORTER_OTLP_*` variables.
///
/// Decision: export is off unless an endpoint is configured (`OTEL_EXPORTER_OTLP_ENDPOINT` or
/// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`), instead of the specification's default
/// `http://localhost:4318`, so a server started without a collector does not log export failures.
/// `OTEL_TRACES_EXPORTER=none` turns export off even when an endpoint is set.
public struct OTLPExporterConfiguration: Sendable, Equatable {
    /// The full URL spans are POSTed to (…/v1/traces).
    public var tracesURL: String
    public var headers: [(String, String)]
    public var timeout: Duration
    public var caFile: String?
    public var clientCertificateFile: String?
    public var clientKeyFile: String?
    /// Attempts per batch, including the first (retries happen on 429/502/503/504 and connection errors).
    public var maxAttempts: Int
    public var initialBackoff: Duration
    public var maxBackoff: Duration
    /// Non-fatal remarks to log at start (e.g. an unsupported compression was requested).
    public var warnings: [String]

    public init(
        tracesURL: String,
        headers: [(String, String)] = [],
        timeout: Duration = .seconds(10),
        caFile: String? = nil,
        clientCertificateFile: String? = nil,
        clientKeyFile: String? = nil,
        maxAttempts: Int = 5,
        initialBackoff: Duration = .milliseconds(500),
        maxBackoff: Duration = .seconds(30),
        warnings: [String] = []
    ) {
        self.tracesURL = tracesURL
        self.headers = headers
        self.timeout = timeout
        self.caFile = caFile
        self.clientCertificateFile = clientCertificateFile
        self.clientKeyFile = clientKeyFile
        self.maxAttempts = max(1, maxAttempts)
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.warnings = warnings
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.tracesURL == rhs.tracesURL && lhs.headers.map { "\($0)=\($1)" } == rhs.headers.map { "\($0)=\($1)" }
            && lhs.timeout == rhs.timeout && lhs.caFile == rhs.caFile
            && lhs.clientCertificateFile == rhs.clientCertificateFile && lhs.clientKeyFile == rhs.clientKeyFile
            && lhs.maxAttempts == rhs.maxAttempts
    }

    /// Reads the environment; nil when export is not configured or turned off.
    public static func fromEnvironment(_ env: [String: String]) throws -> OTLPExporterConfiguration? {
        if let exporter = env["OTEL_TRACES_EXPORTER"]?.lowercased(), !exporter.isEmpty {
            if exporter == "none" { return nil }
            guard exporter == "otlp" else {
                throw TelemetryConfigurationError.invalid(variable: "OTEL_TRACES_EXPORTER", value: exporter, expected: "otlp or none")
            }
        }
        func value(_ name: String) -> String? {
            let signal = env["OTEL_EXPORTER_OTLP_TRACES_\(name)"].flatMap { $0.isEmpty ? nil : $0 }
            return signal ?? env["OTEL_EXPORTER_OTLP_\(name)"].flatMap { $0.isEmpty ? nil : $0 }
        }
        let url: String
        if let traces = env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"], !traces.isEmpty {
            url = try validatedURL(traces, variable: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        } else if let base = env["OTEL_EXPORTER_OTLP_ENDPOINT"], !base.isEmpty {
            let checked = try validatedURL(base, variable: "OTEL_EXPORTER_OTLP_ENDPOINT")
            url = (checked.hasSuffix("/") ? String(checked.dropLast()) : checked) + "/v1/traces"
        } else {
            return nil
        }
        if let proto = value("PROTOCOL"), proto != "http/protobuf" {
            throw TelemetryConfigurationError.invalid(
                variable: "OTEL_EXPORTER_OTLP_PROTOCOL", value: proto,
                expected: "http/protobuf (the only protocol qlik-mcp exports; grpc and http/json are not supported)")
        }
        var warnings: [String] = []
        if let compression = value("COMPRESSION"), compression != "none" {
            warnings.append("OTEL_EXPORTER_OTLP_COMPRESSION=\(compression) is not supported; spans are sent uncompressed")
        }
        var headers: [(String, String)] = []
        if let raw = env["OTEL_EXPORTER_OTLP_HEADERS"], !raw.isEmpty {
            headers += try KeyValueList.parse(raw, variable: "OTEL_EXPORTER_OTLP_HEADERS")
        }
        if let raw = env["OTEL_EXPORTER_OTLP_TRACES_HEADERS"], !raw.isEmpty {
            let specific = try KeyValueList.parse(raw, variable: "OTEL_EXPORTER_OTLP_TRACES_HEADERS")
            let names = Set(specific.map { $0.0.lowercased() })
            headers = headers.filter { !names.contains($0.0.lowercased()) } + specific
        }
        for (name, headerValue) in headers where name.contains(where: { $0 == "\r" || $0 == "\n" || $0 == ":" }) || headerValue.contains(where: { $0 == "\r" || $0 == "\n" }) {
            throw TelemetryConfigurationError.invalid(variable: "OTEL_EXPORTER_OTLP_HEADERS", value: name, expected: "header names and values without ':' in names or line breaks")
        }
        var timeout = Duration.seconds(10)
        if let raw = value("TIMEOUT") {
            guard let ms = Int(raw), ms > 0 else {
                throw TelemetryConfigurationError.invalid(variable: "OTEL_EXPORTER_OTLP_TIMEOUT", value: raw, expected: "a positive number of milliseconds, e.g. 10000")
            }
            timeout = .milliseconds(ms)
        }
        for (name, path) in [("CERTIFICATE", value("CERTIFICATE")), ("CLIENT_CERTIFICATE", value("CLIENT_CERTIFICATE")), ("CLIENT_KEY", value("CLIENT_KEY"))] {
            if let path, !FileManager.default.isReadableFile(atPath: path) {
                throw TelemetryConfigurationError.invalid(variable: "OTEL_EXPORTER_OTLP_\(name)", value: path, expected: "a readable PEM file")
            }
        }
        return OTLPExporterConfiguration(
            tracesURL: url, headers: headers, timeout: timeout,
            caFile: value("CERTIFICATE"), clientCertificateFile: value("CLIENT_CERTIFICATE"), clientKeyFile: value("CLIENT_KEY"),
            warnings: warnings)
    }

    static func validatedURL(_ raw: String, variable: String) throws -> String {
        guard let components = URLComponents(string: raw), let scheme = components.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty else {
            throw TelemetryConfigurationError.invalid(variable: variable, value: raw, expected: "an http:// or https:// URL, e.g. http://localhost:4318")
        }
        return raw
    }
}
