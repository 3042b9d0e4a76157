import ArgumentParser

/// `qlik-mcp bench …`: benchmarks that print numbers (performance targets live here, not in tests).
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Run benchmarks and print the numbers (loopback only, bounded in time and count).",
        subcommands: [LoadBench.self, ServerBench.self, ToolsBench.self, QIXBench.self, TelemetryBench.self, AuthBench.self]
    )
}
