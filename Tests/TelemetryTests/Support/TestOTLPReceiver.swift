import Foundation
import Hummingbird
import HummingbirdTLS
import NIOSSL
import OTLPProto
import Synchronization
import TestSupport

@testable import Telemetry

/// A loopback OTLP/HTTP collector for tests: records every POST and answers as the test scripts it.
final class TestOTLPReceiver: Sendable {
    enum Behavior: Sendable {
        case ok
        case status(Int, retryAfter: String?)
        /// Never answers until the receiver stops (the client must time out).
        case hang
    }

    struct Received: Sendable {
        let at: ContinuousClock.Instant
        let path: String
        let contentType: String?
        let headers: [String: String]
        let body: Data

        func decoded() throws -> Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest {
            try Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest(serializedBytes: body)
        }
    }

    private let script: @Sendable (Int) -> Behavior
    private let state = Mutex<[Received]>([])
    private let arrivals: AsyncStream<Int>.Continuation
    /// Yields the running count each time a request arrives (before it is answered).
    let arrivalStream: AsyncStream<Int>

    init(script: @escaping @Sendable (Int) -> Behavior = { _ in .ok }) {
        self.script = script
        (arrivalStream, arrivals) = AsyncStream<Int>.makeStream()
    }

    var received: [Received] { state.withLock { $0 } }

    /// Runs the receiver on 127.0.0.1:<ephemeral> for the duration of `body` (https when `tls` is set;
    /// the base URL then names `localhost`, which the test certificate covers).
    func run<T: Sendable>(tls: TLSConfiguration? = nil, _ body: @Sendable (_ baseURL: String) async throws -> T) async throws -> T {
        let router = Router()
        router.post("/v1/traces") { [self] request, _ -> Response in
            let buffer = try await request.body.collect(upTo: 64 * 1024 * 1024)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            let record = Received(
                at: .now, path: request.uri.path, contentType: request.headers[.contentType],
                headers: headers, body: Data(buffer: buffer))
            let index = state.withLock {
                $0.append(record); return $0.count
            }
            arrivals.yield(index)
            switch script(index) {
            case .ok:
                return Response(status: .ok)
            case .status(let code, let retryAfter):
                var fields = HTTPFields()
                if let retryAfter { fields[.retryAfter] = retryAfter }
                return Response(status: .init(code: code), headers: fields)
            case .hang:
                try await Task.sleep(for: .seconds(3600))
                return Response(status: .ok)
            }
        }
        let (portStream, portContinuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: router,
            server: try tls.map { try .tls(tlsConfiguration: $0) } ?? .http1(),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { portContinuation.yield($0.localAddress?.port ?? 0) }
        )
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService() }
            var ports = portStream.makeAsyncIterator()
            let port = await ports.next() ?? 0
            defer { group.cancelAll() }
            return try await body(tls == nil ? "http://127.0.0.1:\(port)" : "https://localhost:\(port)")
        }
    }
}

/// A port on loopback where nothing listens (bound, then closed).
func closedLoopbackPort() -> Int { freeLoopbackPort() }
