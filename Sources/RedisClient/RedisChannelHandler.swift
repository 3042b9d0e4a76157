import NIOCore

/// The NIO handler of one Redis connection: commands go out in order, replies are matched to them
/// in order (pipelining), push messages (pub/sub) go to `pushes`. A malformed reply fails every
/// waiting command and closes the channel; so does the channel closing.
final class RedisChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    /// The command's bytes, its reply, and whether its reply is a push (`SUBSCRIBE` and friends
    /// are answered with a push confirmation in RESP3, not a regular reply).
    typealias OutboundIn = (ByteBuffer, EventLoopPromise<RESPValue>, Bool)
    typealias OutboundOut = ByteBuffer

    private let parser: RESPParser
    private var buffer: ByteBuffer?
    private var waiting: CircularBuffer<(reply: EventLoopPromise<RESPValue>, push: Bool)> = []
    private let pushes: AsyncStream<[RESPValue]>.Continuation

    init(parser: RESPParser, pushes: AsyncStream<[RESPValue]>.Continuation) {
        self.parser = parser
        self.pushes = pushes
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let (bytes, reply, push) = unwrapOutboundIn(data)
        waiting.append((reply, push))
        context.write(wrapOutboundOut(bytes), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if buffer == nil { buffer = incoming } else { buffer!.writeBuffer(&incoming) }
        do {
            while var current = buffer, let value = try parser.parse(&current) {
                buffer = current
                if case .push(let message) = value {
                    if waiting.first?.push == true, let kind = message.first?.string, kind.hasSuffix("subscribe") {
                        waiting.removeFirst().reply.succeed(value)
                    }
                    pushes.yield(message)
                } else if let next = waiting.popFirst() {
                    next.reply.succeed(value)
                } else {
                    throw RESPProtocolError(description: "a reply nobody asked for")
                }
            }
            if let current = buffer, current.readableBytes == 0 { buffer = nil } else { buffer?.discardReadBytes() }
        } catch {
            failAll(RedisError.protocolViolation("\(error)"))
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(RedisError.connectionClosed)
        pushes.finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll(RedisError.connectionClosed)
        context.close(promise: nil)
    }

    private func failAll(_ error: RedisError) {
        while let next = waiting.popFirst() { next.reply.fail(error) }
    }
}
