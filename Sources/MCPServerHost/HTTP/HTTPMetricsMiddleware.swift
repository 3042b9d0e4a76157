import Hummingbird
import Metrics
import Synchronization

/// HTTP server metrics: `http_server_requests_total{route,method,status}`,
/// `http_server_request_duration_seconds{route}`, `http_server_active_requests`. Routes outside
/// the known set count as `other`, methods outside the standard ones as `OTHER`, so labels stay
/// bounded; handles are created once per label set, not per request.
struct HTTPMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    static var routes: Set<String> { ["/mcp", "/sse", "/messages", "/metrics", "/livez", "/readyz", "/startupz", "/healthz", "/debug/traces"] }
    static var methods: Set<String> { ["GET", "POST", "DELETE", "HEAD", "OPTIONS", "PUT", "PATCH"] }

    private let metrics = HTTPServerMetrics()

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let route = Self.routes.contains(request.uri.path) ? request.uri.path : "other"
        let method = Self.methods.contains(request.method.rawValue) ? request.method.rawValue : "OTHER"
        let start = ContinuousClock.now
        metrics.active.increment()
        defer { metrics.active.decrement() }
        do {
            let response = try await next(request, context)
            metrics.record(route: route, method: method, status: response.status.code, start: start)
            return response
        } catch {
            metrics.record(route: route, method: method, status: (error as? any HTTPResponseError)?.status.code ?? 500, start: start)
            throw error
        }
    }
}

/// The metric handles of `HTTPMetricsMiddleware`, cached per label set.
final class HTTPServerMetrics: Sendable {
    let active = Meter(label: "http_server_active_requests")
    private let counters = Mutex<[String: Counter]>([:])
    private let timers = Mutex<[String: Metrics.Timer]>([:])

    func record(route: String, method: String, status: Int, start: ContinuousClock.Instant) {
        let key = "\(route) \(method) \(status)"
        counters.withLock { cache in
            if let counter = cache[key] { return counter }
            let counter = Counter(label: "http_server_requests_total", dimensions: [("route", route), ("method", method), ("status", String(status))])
            cache[key] = counter
            return counter
        }.increment()
        timers.withLock { cache in
            if let timer = cache[route] { return timer }
            let timer = Metrics.Timer(label: "http_server_request_duration_seconds", dimensions: [("route", route)])
            cache[route] = timer
            return timer
        }.record(duration: .now - start)
    }
}
