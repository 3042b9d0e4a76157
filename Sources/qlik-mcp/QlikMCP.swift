import ArgumentParser
import MCPAuth
import Telemetry

/// The `qlik-mcp` command.
@main
struct QlikMCP: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qlik-mcp",
        abstract: "An observability-first Model Context Protocol server for Qlik Sense.",
        discussion: """
            qlik-mcp lets AI assistants explore Qlik apps (data models, measures, sheets, scripts, \
            lineage) and evaluate data, while exporting JSON logs, Prometheus metrics and OTLP traces.

            Configuration comes from flags and environment variables (QLIK_MCP_*, and the standard \
            OTEL_* variables for tracing). Logs are JSON lines on stderr (--log-format); stdout is kept for output.

            Start here: `qlik-mcp serve --demo` (stdio) or `qlik-mcp serve --demo --transport http`.
            """,
        version: QlikMCPVersion.current,
        subcommands: [ServeCommand.self, DemoEngineCommand.self, ToolsCommand.self, CallCommand.self, TelemetryCommand.self, APIKeyCommand.self, CacheCommand.self, DeadLetterCommand.self]
    )
}

/// Options shared by commands that start the telemetry core.
struct TelemetryOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Log level: trace, debug, info, notice, warning, error, critical. Env: QLIK_MCP_LOG_LEVEL.",
            valueName: "level"))
    var logLevel: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Log line format: json (OpenTelemetry field names, the default), ecs (Elastic Common Schema) or text (for a terminal). Env: QLIK_MCP_LOG_FORMAT.",
            valueName: "format"))
    var logFormat: String?

    func makeConfiguration(extraEnvironment: [String: String] = [:]) throws -> TelemetryConfiguration {
        var env = ProcessEnvironment.current
        env.merge(extraEnvironment) { _, new in new }
        do {
            return try TelemetryConfiguration.fromEnvironment(env, logLevel: logLevel, logFormat: logFormat)
        } catch let error as TelemetryConfigurationError {
            throw ValidationError(error.description)
        }
    }
}
