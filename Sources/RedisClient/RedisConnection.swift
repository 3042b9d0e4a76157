import NIOCore
import NIOPosix
import NIOSSL

/// How to reach Redis and how long to wait.
public struct RedisConfiguration: Sendable {
    public var url: RedisURL
    /// Overrides the URL's password (read from a file or the environment by the caller).
    public var password: String?
    /// PEM file of the CA that signed the server's certificate (`rediss://`); system CAs when nil.
    public var caFile: String?
    public var connectTimeout: Duration = .seconds(3)
    public var commandTimeout: Duration = .seconds(2)
    public var parser = RESPParser()

    public init(url: RedisURL, password: String? = nil, caFile: String? = nil) {
        self.url = url
        self.password = password
        self.caFile = caFile
    }
}

/// One connection to Redis speaking RESP3 (`HELLO 3`). Commands may be sent concurrently: they
/// are written in order and their replies matched in order (pipelining). `SUBSCRIBE` and its
/// kin return the first confirmation push; every push, confirmations included, also goes to
/// `pushes`. A command that gets no
/// answer within the timeout closes the connection (a server that does not answer is not trusted
/// with the next command), failing every command still waiting; the pool then opens a new one.
public final class RedisConnection: Sendable {
    private let channel: any Channel
    private let configuration: RedisConfiguration
    /// Out-of-band messages (pub/sub) in arrival order; finishes when the connection closes.
    public let pushes: AsyncStream<[RESPValue]>

    private init(channel: any Channel, configuration: RedisConfiguration, pushes: AsyncStream<[RESPValue]>) {
        self.channel = channel
        self.configuration = configuration
        self.pushes = pushes
    }

    /// Connects, switches to RESP3, authenticates and selects the database.
    public static func connect(_ configuration: RedisConfiguration, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> RedisConnection {
        let url = configuration.url
        let (pushes, continuation) = AsyncStream<[RESPValue]>.makeStream(bufferingPolicy: .bufferingNewest(10_000))
        let tls: NIOSSLContext?
        if url.tls {
            var tlsConfiguration = TLSConfiguration.makeClientConfiguration()
            if let caFile = configuration.caFile {
                do { tlsConfiguration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile)) } catch {
                    throw RedisError.configuration("cannot read the Redis CA file \(caFile): \(error)")
                }
            }
            tls = try NIOSSLContext(configuration: tlsConfiguration)
        } else {
            tls = nil
        }
        let parser = configuration.parser
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(TimeAmount(configuration.connectTimeout))
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: url.host)) }
                    try channel.pipeline.syncOperations.addHandler(RedisChannelHandler(parser: parser, pushes: continuation))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: url.host, port: url.port).get()
        } catch {
            throw RedisError.configuration("cannot connect to Redis at \(url): \(error)")
        }
        let connection = RedisConnection(channel: channel, configuration: configuration, pushes: pushes)
        do {
            var hello = ["HELLO", "3"]
            if let password = configuration.password ?? url.password {
                hello += ["AUTH", url.username ?? "default", password]
            }
            _ = try await connection.send(hello)
            if url.database != 0 { _ = try await connection.send(["SELECT", String(url.database)]) }
        } catch {
            await connection.close()
            throw error
        }
        return connection
    }

    public var isOpen: Bool { channel.isActive }

    /// Sends one command and returns its reply; an error reply is thrown as `RedisError.server`.
    @discardableResult
    public func send(_ command: [String], timeout: Duration? = nil) async throws -> RESPValue {
        let reply = try await pipeline([command], timeout: timeout)[0]
        if let message = reply.errorMessage { throw RedisError.server(message) }
        return reply
    }

    /// Sends several commands in one write and returns their replies in order (error replies
    /// are returned, not thrown, so one failing command does not hide the others' results).
    public func pipeline(_ commands: [[String]], timeout: Duration? = nil) async throws -> [RESPValue] {
        let channel = self.channel
        guard channel.isActive else { throw RedisError.connectionClosed }
        let promises = commands.map { _ in channel.eventLoop.makePromise(of: RESPValue.self) }
        for (command, promise) in zip(commands, promises) {
            var buffer = channel.allocator.buffer(capacity: 64)
            RESPEncoder.encode(command, into: &buffer)
            let push = ["SUBSCRIBE", "UNSUBSCRIBE", "PSUBSCRIBE", "PUNSUBSCRIBE", "SSUBSCRIBE", "SUNSUBSCRIBE"].contains(command.first?.uppercased() ?? "")
            // A write that fails (the channel closed under us) never reaches the handler's queue:
            // its reply must fail here, or it would wait forever. (Completing a promise twice is a no-op.)
            let written = channel.eventLoop.makePromise(of: Void.self)
            written.futureResult.whenFailure { _ in promise.fail(RedisError.connectionClosed) }
            channel.write((buffer, promise, push), promise: written)
        }
        channel.flush()
        let limit = timeout ?? configuration.commandTimeout
        let name = commands.first?.first ?? "?"
        let deadline = channel.eventLoop.scheduleTask(in: TimeAmount(limit)) {
            for promise in promises { promise.fail(RedisError.timeout(command: name)) }
            channel.close(promise: nil)
        }
        defer { deadline.cancel() }
        var replies: [RESPValue] = []
        replies.reserveCapacity(promises.count)
        do {
            for promise in promises { replies.append(try await promise.futureResult.get()) }
        } catch RedisError.timeout(let command) {
            // The deadline closes the connection: the caller sees it closed when this returns.
            try? await channel.closeFuture.get()
            throw RedisError.timeout(command: command)
        }
        return replies
    }

    public func close() async {
        try? await channel.close()
    }
}
