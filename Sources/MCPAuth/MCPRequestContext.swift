import Hummingbird

/// A Hummingbird request context that can carry the authenticated caller. `MCPAuthMiddleware`
/// sets `principal`; the MCP routes read it. Without `--auth` it stays nil.
public protocol PrincipalRequestContext: RequestContext {
    var principal: Principal? { get set }
}

/// The request context of the qlik-mcp HTTP server.
public struct MCPRequestContext: PrincipalRequestContext {
    public var coreContext: CoreRequestContextStorage
    public var principal: Principal?

    public init(source: Source) {
        self.coreContext = .init(source: source)
        self.principal = nil
    }
}
