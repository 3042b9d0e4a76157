import Foundation
import JSONCore
import MCP
import ServiceContextModule

/// One JSON-RPC message as it arrived, parsed once at the edge (the HTTP route, or the stdio line
/// reader) and passed along unchanged: the instrumentation, the `tools/call` path and the SDK all
/// read this one parse (the SDK gets `raw`).
public struct JSONRPCEnvelope: Sendable {
    /// The message's bytes, as received.
    public let raw: Data
    /// The parsed message.
    public let message: JSONValue
    /// The service context of the transport request that carried the message — with HTTP, the
    /// HTTP server span's — so the MCP span becomes its child.
    public let context: ServiceContext?
    /// A message this server replays to itself to restore a session on another replica (the
    /// client's `initialize`): handled, but not traced or counted as a client request.
    public let restored: Bool

    public init(raw: Data, message: JSONValue, context: ServiceContext? = nil, restored: Bool = false) {
        self.raw = raw
        self.message = message
        self.context = context
        self.restored = restored
    }

    /// Parses `data`; nil when it is not JSON.
    public static func parse(_ data: Data, context: ServiceContext? = nil) -> JSONRPCEnvelope? {
        guard let message = try? JSONCoding.parse(String(decoding: data, as: UTF8.self)) else { return nil }
        return JSONRPCEnvelope(raw: data, message: message, context: context)
    }

    /// A message built here (a cancellation, say), serialised once.
    public static func make(_ message: JSONValue, restored: Bool = false) -> JSONRPCEnvelope {
        JSONRPCEnvelope(raw: Data(JSONCoding.serialize(message).utf8), message: message, restored: restored)
    }

    /// The request id; nil for notifications and responses without one.
    public var id: JSONValue? {
        guard let id = message["id"], id != .null else { return nil }
        return id
    }

    /// The method of a request or notification.
    public var method: String? { message["method"]?.stringValue }

    public var params: JSONValue? { message["params"] }

    /// The raw bytes of each envelope of `envelopes` (for `Transport.receive()`).
    static func bytes(of envelopes: AsyncThrowingStream<JSONRPCEnvelope, any Error>) -> AsyncThrowingStream<Data, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    for try await envelope in envelopes { continuation.yield(envelope.raw) }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// True for a request: a method and an id.
    public var isRequest: Bool { method != nil && id != nil }
}

/// A transport whose messages arrive already parsed (the HTTP sessions): `InstrumentedTransport`
/// reads envelopes from it instead of parsing `receive()`'s bytes again.
protocol EnvelopeTransport: Transport {
    func receiveEnvelopes() async -> AsyncThrowingStream<JSONRPCEnvelope, any Error>
}
