import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1

/// A Hummingbird child channel that answers bytes which are not HTTP/1.1 with `400 Bad Request`
/// and closes the connection.
///
/// Hummingbird sets its HTTP/1 pipelines up without NIO's protocol error handler, so a parser
/// error (a TLS ClientHello sent to a plain-HTTP port, binary garbage, a malformed request line)
/// left the connection open and unanswered until the client gave up — for the WebSocket-upgrade
/// pipeline the negotiation never completes at all. A client that tries `wss://` before `ws://`
/// (as some Qlik clients do) waited for its own handshake timeout on every connection. No listed
/// library offers this, so it is hand-written: after the wrapped channel's setup, one handler is
/// inserted right behind the HTTP request decoder, where parser errors surface.
public struct HTTPParseErrorGuard<Inner: ServerChildChannel>: ServerChildChannel {
    public typealias Value = Inner.Value

    let inner: Inner

    public init(_ inner: Inner) {
        self.inner = inner
    }

    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        inner.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let pipeline = channel.pipeline.syncOperations
            let decoder = try pipeline.context(handlerType: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try pipeline.addHandler(ParseErrorResponder(), position: .after(decoder.handler))
            return value
        }
    }

    public func handle(value: Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}

/// Sits right behind the request decoder: passes everything through, and on a parser error
/// writes `400 Bad Request` with `Connection: close` and closes the channel.
final class ParseErrorResponder: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private var answered = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(data)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard error is HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        guard !answered else { return }
        answered = true
        let head = HTTPResponseHead(version: .http1_1, status: .badRequest, headers: ["Connection": "close", "Content-Length": "0"])
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }
}
