import OTelSemanticConventions

/// The attribute names qlik-mcp puts on spans and log lines (and, with `.` → `_`, on metric
/// labels). Stable OpenTelemetry names come from swift-otel-semantic-conventions, so a typo is a
/// compile error and a rename upstream reaches us with the package.
///
/// The MCP and GenAI names are written out here: in swift-otel-semantic-conventions 1.44 they sit
/// behind the package's `Experimental` trait (unstable API, pinned to a minor version) and are
/// marked deprecated there because they moved to the OpenTelemetry GenAI conventions repository,
/// whose MCP conventions these follow. Using them from the package would mean deprecation
/// warnings in a build that must have none.
public enum SemanticAttributes {
    // Stable OpenTelemetry conventions.
    public static let errorType = OTelAttribute.error.type
    public static let networkTransport = OTelAttribute.network.transport
    public static let serverAddress = OTelAttribute.server.address
    public static let serverPort = OTelAttribute.server.port
    public static let urlFull = OTelAttribute.url.full
    public static let httpRoute = OTelAttribute.http.route
    public static let httpRequestMethod = OTelAttribute.http.request.method

    // MCP and GenAI conventions (see above).
    public static let mcpMethodName = "mcp.method.name"
    public static let mcpSessionID = "mcp.session.id"
    public static let mcpProtocolVersion = "mcp.protocol.version"
    public static let mcpResourceURI = "mcp.resource.uri"
    public static let jsonrpcRequestID = "jsonrpc.request.id"
    public static let genAIToolName = "gen_ai.tool.name"
    public static let genAIOperationName = "gen_ai.operation.name"
    public static let genAIPromptName = "gen_ai.prompt.name"
    public static let enduserPseudoID = "enduser.pseudo.id"
}
