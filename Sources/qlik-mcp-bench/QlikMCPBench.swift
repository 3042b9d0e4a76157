import ArgumentParser
import Foundation

/// `qlik-mcp-bench …`: benchmarks that print numbers (performance targets live here, not in
/// tests). A separate executable so the server binary carries only the server; benchmarks that
/// measure the real server start the `qlik-mcp` binary built next to this one.
@main
struct QlikMCPBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qlik-mcp-bench",
        abstract: "Run qlik-mcp benchmarks and print the numbers (loopback only, bounded in time and count).",
        subcommands: [LoadBench.self, ServerBench.self, ToolsBench.self, QIXBench.self, TelemetryBench.self, AuthBench.self, ResilienceBench.self, LimitsBench.self]
    )
}

/// Where the `qlik-mcp` server binary is: `QLIK_MCP_BIN` when set, else next to this executable.
enum ServerBinary {
    static var path: String {
        if let explicit = ProcessInfo.processInfo.environment["QLIK_MCP_BIN"], !explicit.isEmpty { return explicit }
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: me).deletingLastPathComponent().appendingPathComponent("qlik-mcp").path
    }
}
