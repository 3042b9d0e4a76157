import HTTPTypes
import Hummingbird

/// CORS for browser-based MCP clients (MCP Inspector's direct mode, web apps): a preflight
/// `OPTIONS` from an allowed Origin gets the methods and headers MCP uses, and responses to
/// allowed Origins expose `Mcp-Session-Id`. Origins that are not allowed get no CORS headers (the
/// browser blocks them) and their non-preflight requests are refused by the Origin check.
/// Hand-written because Hummingbird's `CORSMiddleware` matches origins exactly (no `host:*` port
/// patterns) or echoes every origin, which would let any web page read `/metrics` from a local server.
struct MCPCORSMiddleware<Context: RequestContext>: RouterMiddleware {
    let allowedOrigins: [String]

    static var allowHeaders: String {
        "Content-Type, Accept, Authorization, Mcp-Session-Id, MCP-Protocol-Version, Last-Event-ID, traceparent, tracestate"
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin], allowedOrigins.contains(where: { HostOriginValidator.matches(origin, $0) }) else {
            return try await next(request, context)
        }
        if request.method == .options {
            return Response(
                status: .noContent,
                headers: [
                    .accessControlAllowOrigin: origin,
                    .accessControlAllowMethods: "GET, POST, DELETE, OPTIONS",
                    .accessControlAllowHeaders: Self.allowHeaders,
                    .accessControlMaxAge: "600",
                    .vary: "Origin",
                ])
        }
        var response = try await next(request, context)
        response.headers[.accessControlAllowOrigin] = origin
        response.headers[.accessControlExposeHeaders] = "Mcp-Session-Id, MCP-Protocol-Version, WWW-Authenticate"
        response.headers[.vary] = "Origin"
        return response
    }
}
