/// The version of qlik-mcp, reported by `--version`, `qlik_mcp_build_info` and the OTLP resource.
public enum QlikMCPVersion {
    public static let current = "0.1.0"
}
