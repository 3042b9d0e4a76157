import Hummingbird
import Metrics
import Synchronization

/// HTTP server metrics in the OpenTelemetry HTTP semantic conventions:
/// `http_server_request_duration_seconds{http_request_method, http_route, http_response_status_code}`
/// (its `_count` is the request count) and `http_server_active_requests{http_request_method}`.
/// Routes outside the known set count as `other`, methods outside the standard ones as `_OTHER`
/// (as the conventions say), so labels stay bounded; handles are created once per label set.
struct HTTPMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    static var routes: Set<String> { ["/mcp", "/sse", "/messages", "/metrics", "/livez", "/readyz", "/startupz", "/healthz", "/debug/traces"] }
    static var methods: Set<String> { ["GET", "POST", "DELETE", "HEAD", "OPTIONS", "PUT", "PATCH"] }

    private let metrics = HTTPServerMetrics()

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let route = Self.routes.contains(request.uri.path) ? request.uri.path : "other"
        let method = Self.methods.contains(request.method.rawValue) ? request.method.rawValue : "_OTHER"
        let start = ContinuousClock.now
        let active = metrics.active(method)
        active.increment()
        defer { active.decrement() }
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
    private let actives = Mutex<[String: Meter]>([:])
    private struct Key: Hashable {
        let route: String
        let method: String
        let status: Int
    }

    private let timers = Mutex<[Key: Metrics.Timer]>([:])

    func active(_ method: String) -> Meter {
        actives.withLock { cache in
            if let meter = cache[method] { return meter }
            let meter = Meter(label: "http_server_active_requests", dimensions: [("http_request_method", method)])
            cache[method] = meter
            return meter
        }
    }

    func record(route: String, method: String, status: Int, start: ContinuousClock.Instant) {
        let key = Key(route: route, method: method, status: status)
        timers.withLock { cache in
            if let timer = cache[key] { return timer }
            let timer = Metrics.Timer(
                label: "http_server_request_duration_seconds",
                dimensions: [("http_request_method", method), ("http_route", route), ("http_response_status_code", String(status))])
            cache[key] = timer
            return timer
        }.record(duration: .now - start)
    }
}
