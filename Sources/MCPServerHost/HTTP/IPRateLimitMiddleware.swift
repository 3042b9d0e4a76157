import HTTPTypes
import Hummingbird
import JSONCore
import RateLimiting

/// Limits the unauthenticated OAuth endpoints (`/oauth/*`: registration, token, authorization,
/// consent, callback) per client IP, before any of their work: a refused request gets `429 Too
/// Many Requests` with `Retry-After` and the IETF `RateLimit-Policy`/`RateLimit` fields, and a
/// JSON body saying which limit and when to come back. The IP is the connection's peer: behind a
/// proxy, every client shares the proxy's address — limit per client at the proxy then.
struct IPRateLimitMiddleware<Context: RemoteAddressRequestContext>: RouterMiddleware {
    let limiter: any RateLimiter
    let limit: RateLimit
    let metrics: LimitMetrics

    static func applies(to request: Request) -> Bool {
        request.method != .options && request.uri.path.hasPrefix("/oauth/") && request.uri.path != "/oauth/jwks"
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard Self.applies(to: request) else { return try await next(request, context) }
        let address = context.remoteAddress?.ipAddress ?? "unknown"
        let decision = await limiter.check([RateLimitCheck(key: "ip:" + address, limit: limit)])
        if decision.fallback { metrics.fallback() }
        guard decision.allowed else {
            metrics.limited(limit: limit.name, scope: "ip", principal: "ip:" + address)
            var fields = Self.headers(decision)
            fields[.retryAfter] = decision.retryAfterHeader
            fields[.contentType] = "application/json"
            fields[.accessControlAllowOrigin] = "*"
            let body: JSONValue = [
                "error": "rate_limited",
                "error_description": .string("too many requests from this address to the OAuth endpoints; try again in \(decision.retryAfterHeader) s"),
                "limit": .string(limit.name), "retry_after_s": .number(Double(decision.retryAfterHeader) ?? 1),
            ]
            return Response(status: .tooManyRequests, headers: fields, body: .init(byteBuffer: .init(string: JSONCoding.serialize(body))))
        }
        var response = try await next(request, context)
        for field in Self.headers(decision) { response.headers.append(field) }
        return response
    }

    static func headers(_ decision: RateLimitDecision) -> HTTPFields {
        var fields = HTTPFields()
        if let policy = decision.policyHeader, let name = HTTPField.Name("RateLimit-Policy") { fields[name] = policy }
        if let state = decision.stateHeader, let name = HTTPField.Name("RateLimit") { fields[name] = state }
        return fields
    }
}
