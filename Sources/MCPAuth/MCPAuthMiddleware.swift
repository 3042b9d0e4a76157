import Hummingbird

/// Authenticates every request of the routes it is added to (`/mcp`, `/sse`, `/messages`): the
/// caller goes into `context.principal`, or the request is answered with the refusal (401 with
/// the Bearer challenge, 400 for a malformed Bearer header, 503 while keys cannot be fetched).
public struct MCPAuthMiddleware<Context: PrincipalRequestContext>: RouterMiddleware {
    let guardian: MCPAuthGuard

    public init(guardian: MCPAuthGuard) {
        self.guardian = guardian
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        switch await guardian.authenticate(request, route: context.endpointPath ?? request.uri.path) {
        case .success(let principal):
            var context = context
            context.principal = principal
            return try await next(request, context)
        case .failure(let refusal):
            return refusal.response
        }
    }
}
