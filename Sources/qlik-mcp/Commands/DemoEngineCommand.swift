import ArgumentParser
import DemoEngine
import Logging
import ServiceLifecycle
import Telemetry

/// `qlik-mcp demo-engine`: run the embedded demo engine on its own.
struct DemoEngineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo-engine",
        abstract: "Serve the demo Qlik engine (real QIX over WebSocket) with its sample apps.",
        discussion: """
            Any QIX client can connect: ws://<host>:<port>/app/<appId> for an app session, ws://<host>:<port>/app/ \
            for a Global-only session. GET /stats answers the QIX requests served so far, by method. Apps: sales-analytics (120,000 order lines) and hr-insights. \
            Stops cleanly on SIGINT or SIGTERM.

            Example: qlik-mcp demo-engine --port 4848
            """
    )

    @OptionGroup var telemetry: TelemetryOptions

    @Option(help: "Interface to listen on. Anything but loopback exposes the demo data to the network.")
    var host = "127.0.0.1"

    @Option(help: "TCP port (0 picks a free one).")
    var port = 4848

    @Option(help: ArgumentHelp("Order lines in the sales app (for smaller or bigger demos).", valueName: "count"))
    var orderLines = 120_000

    @Option(help: ArgumentHelp("Delay every answer by this many milliseconds (simulates a distant engine, for tests and benchmarks).", valueName: "ms"))
    var latencyMs = 0

    @Option(
        help: ArgumentHelp(
            "Section access (repeatable): USER=FIELD:V1|V2 — that user (DIRECTORY\\user from X-Qlik-User) sees only rows with those values of FIELD.",
            valueName: "rule"))
    var sectionAccess: [String] = []

    func sectionAccessRules() throws -> SectionAccess {
        var rules = SectionAccess()
        for rule in sectionAccess {
            do { try rules.add(rule) } catch { throw ValidationError("--section-access: \(error.message)") }
        }
        return rules
    }

    func validate() throws {
        _ = try sectionAccessRules()
        guard (0...10_000).contains(latencyMs) else { throw ValidationError("--latency-ms must be between 0 and 10000") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        guard (1_000...2_000_000).contains(orderLines) else { throw ValidationError("--order-lines must be between 1,000 and 2,000,000") }
    }

    func run() async throws {
        let system = try TelemetrySystem(configuration: telemetry.makeConfiguration())
        system.bootstrapGlobalSystems()
        let logger = Logger(label: "qlik-mcp.demo-engine")
        if host != "127.0.0.1" && host != "localhost" && host != "::1" {
            logger.warning("the demo engine listens on a non-loopback interface; anyone who can reach it can read the demo apps", metadata: ["server.address": .string(host)])
        }
        let faults = FaultController()
        let latency = Duration.milliseconds(latencyMs)
        faults.update { $0.latency = latency }
        var configuration = DemoEngineServer.Configuration(host: host, port: port)
        configuration.sectionAccess = try sectionAccessRules()
        let server = DemoEngineServer(catalog: .standard(orderLines: orderLines), configuration: configuration, faults: faults, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [server], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        await system.shutdown()
    }
}
