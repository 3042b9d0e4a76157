import Hummingbird
import NIOCore

/// A Hummingbird request context that can carry the authenticated caller. `MCPAuthMiddleware`
/// sets `principal`; the MCP routes read it. Without `--auth` it stays nil.
public protocol PrincipalRequestContext: RequestContext {
    var principal: Principal? { get set }
}

/// The request context of the qlik-mcp HTTP server.
public struct MCPRequestContext: PrincipalRequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public var principal: Principal?
    /// The peer of the connection (the client, or the proxy in front of qlik-mcp).
    public let remoteAddress: SocketAddress?

    public init(source: Source) {
        self.coreContext = .init(source: source)
        self.principal = nil
        self.remoteAddress = source.channel.remoteAddress
    }
}
