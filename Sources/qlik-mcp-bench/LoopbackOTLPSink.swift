import Hummingbird
import Synchronization

/// A loopback HTTP server that accepts `POST /v1/traces` and counts requests and bytes — the
/// stand-in collector for the export benchmark.
final class LoopbackOTLPSink: Sendable {
    private let counts = Mutex<(requests: Int, bytes: Int)>((0, 0))

    var requests: Int { counts.withLock { $0.requests } }
    var bytes: Int { counts.withLock { $0.bytes } }

    /// Starts the server on 127.0.0.1 with an ephemeral port, runs `body` with the port, then stops.
    func run<T: Sendable>(_ body: @Sendable (Int) async throws -> T) async throws -> T {
        let router = Router()
        router.post("/v1/traces") { [self] request, _ -> Response in
            let buffer = try await request.body.collect(upTo: 64 * 1024 * 1024)
            self.counts.withLock {
                $0.requests += 1; $0.bytes += buffer.readableBytes
            }
            return Response(status: .ok)
        }
        let (portStream, portContinuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in portContinuation.yield(channel.localAddress?.port ?? 0) }
        )
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService() }
            var iterator = portStream.makeAsyncIterator()
            guard let port = await iterator.next(), port > 0 else {
                group.cancelAll()
                throw BenchError.receiverDidNotStart
            }
            let result = try await body(port)
            group.cancelAll()
            return result
        }
    }
}

enum BenchError: Error, CustomStringConvertible {
    case receiverDidNotStart
    case failed(String)

    init(_ message: String) { self = .failed(message) }

    var description: String {
        switch self {
        case .receiverDidNotStart: return "the loopback OTLP receiver did not start"
        case .failed(let message): return message
        }
    }
}
