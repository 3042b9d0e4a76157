import Foundation

/// Where and how one signal (traces or logs) is exported, read from the standard
/// `OTEL_EXPORTER_OTLP_*` variables (the signal-specific `OTEL_EXPORTER_OTLP_TRACES_*` /
/// `OTEL_EXPORTER_OTLP_LOGS_*` win over the general ones).
///
/// Decisions: trace export is off unless an endpoint is configured (`OTEL_EXPORTER_OTLP_ENDPOINT`
/// or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`), instead of the specification's default
/// `http://localhost:4318`, so a server started without a collector does not log export failures;
/// `OTEL_TRACES_EXPORTER=none` turns it off even when an endpoint is set. Log records are exported
/// only with `OTEL_LOGS_EXPORTER=otlp` (and an endpoint): stderr stays the default log destination.
public struct OTLPExporterConfiguration: Sendable, Equatable {
    /// The signals qlik-mcp exports over OTLP.
    public enum Signal: String, Sendable {
        case traces
        case logs

        var variable: String { rawValue.uppercased() }
    }

    /// The full URL requests are POSTed to (…/v1/traces or …/v1/logs).
    public var url: String
    /// Request bodies are gzip-compressed (`OTEL_EXPORTER_OTLP_COMPRESSION=gzip`).
    public var gzip: Bool
    public var headers: [(String, String)]
    public var timeout: Duration
    public var caFile: String?
    public var clientCertificateFile: String?
    public var clientKeyFile: String?
    /// Attempts per batch, including the first (retries happen on 429/502/503/504 and connection errors).
    public var maxAttempts: Int
    public var initialBackoff: Duration
    public var maxBackoff: Duration

    public init(
        url: String,
        gzip: Bool = false,
        headers: [(String, String)] = [],
        timeout: Duration = .seconds(10),
        caFile: String? = nil,
        clientCertificateFile: String? = nil,
        clientKeyFile: String? = nil,
        maxAttempts: Int = 5,
        initialBackoff: Duration = .milliseconds(500),
        maxBackoff: Duration = .seconds(30)
    ) {
        self.url = url
        self.gzip = gzip
        self.headers = headers
        self.timeout = timeout
        self.caFile = caFile
        self.clientCertificateFile = clientCertificateFile
        self.clientKeyFile = clientKeyFile
        self.maxAttempts = max(1, maxAttempts)
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.url == rhs.url && lhs.gzip == rhs.gzip && lhs.headers.map { "\($0)=\($1)" } == rhs.headers.map { "\($0)=\($1)" }
            && lhs.timeout == rhs.timeout && lhs.caFile == rhs.caFile
            && lhs.clientCertificateFile == rhs.clientCertificateFile && lhs.clientKeyFile == rhs.clientKeyFile
            && lhs.maxAttempts == rhs.maxAttempts
    }

    /// Reads the environment for `signal`; nil when its export is not configured or turned off.
    public static func fromEnvironment(_ env: [String: String], signal: Signal = .traces) throws -> OTLPExporterConfiguration? {
        let exporterVariable = "OTEL_\(signal.variable)_EXPORTER"
        if let exporter = env[exporterVariable]?.lowercased(), !exporter.isEmpty {
            if exporter == "none" { return nil }
            guard exporter == "otlp" else {
                throw TelemetryConfigurationError.invalid(variable: exporterVariable, value: exporter, expected: "otlp or none")
            }
        } else if signal == .logs {
            return nil
        }
        func value(_ name: String) -> String? {
            let specific = env["OTEL_EXPORTER_OTLP_\(signal.variable)_\(name)"].flatMap { $0.isEmpty ? nil : $0 }
            return specific ?? env["OTEL_EXPORTER_OTLP_\(name)"].flatMap { $0.isEmpty ? nil : $0 }
        }
        let url: String
        if let specific = env["OTEL_EXPORTER_OTLP_\(signal.variable)_ENDPOINT"], !specific.isEmpty {
            url = try validatedURL(specific, variable: "OTEL_EXPORTER_OTLP_\(signal.variable)_ENDPOINT")
        } else if let base = env["OTEL_EXPORTER_OTLP_ENDPOINT"], !base.isEmpty {
            let checked = try validatedURL(base, variable: "OTEL_EXPORTER_OTLP_ENDPOINT")
            url = (checked.hasSuffix("/") ? String(checked.dropLast()) : checked) + "/v1/\(signal.rawValue)"
        } else if signal == .logs {
            throw TelemetryConfigurationError.invalid(
                variable: exporterVariable, value: "otlp",
                expected: "an endpoint as well: set OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_LOGS_ENDPOINT")
        } else {
            return nil
        }
        if let proto = value("PROTOCOL"), proto != "http/protobuf" {
            throw TelemetryConfigurationError.invalid(
                variable: "OTEL_EXPORTER_OTLP_PROTOCOL", value: proto,
                expected: "http/protobuf (the only protocol qlik-mcp exports; grpc and http/json are not supported)")
        }
        var gzip = false
        if let compression = value("COMPRESSION")?.lowercased() {
            guard compression == "gzip" || compression == "none" else {
                throw TelemetryConfigurationError.invalid(variable: "OTEL_EXPORTER_OTLP_COMPRESSION", value: compression, expected: "gzip or none")
            }
            gzip = compression == "gzip"
        }
        var headers: [(String, String)] = []
        if let raw = env["OTEL_EXPORTER_OTLP_HEADERS"], !raw.isEmpty {
            headers += try KeyValueList.parse(raw, variable: "OTEL_EXPORTER_OTLP_HEADERS")
        }
        if let raw = env["OTEL_EXPORTER_OTLP_\(signal.variable)_HEADERS"], !raw.isEmpty {
            let specific = try KeyValueList.parse(raw, variable: "OTEL_EXPORTER_OTLP_\(signal.variable)_HEADERS")
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
            url: url, gzip: gzip, headers: headers, timeout: timeout,
            caFile: value("CERTIFICATE"), clientCertificateFile: value("CLIENT_CERTIFICATE"), clientKeyFile: value("CLIENT_KEY"))
    }

    static func validatedURL(_ raw: String, variable: String) throws -> String {
        guard let components = URLComponents(string: raw), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty
        else {
            throw TelemetryConfigurationError.invalid(variable: variable, value: raw, expected: "an http:// or https:// URL, e.g. http://localhost:4318")
        }
        return raw
    }
}
