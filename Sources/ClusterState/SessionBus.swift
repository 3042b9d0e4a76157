import Foundation
import JSONCore
import RedisClient

/// Messages between the replicas about one session, over Redis pub/sub (one channel per session):
/// server messages for a stream another replica holds, stream take-overs, client messages for a
/// legacy SSE session whose stream is elsewhere, and the end of a session. Pub/sub is
/// best-effort; what must not be lost (SSE events) is also in the session's event log, which a
/// holder re-reads after a Redis reconnect.
public struct SessionBus: Sendable {
    /// What travels on a session's channel.
    public enum Message: Sendable, Equatable {
        /// A server message stored as event `id` of `stream`.
        case event(stream: String, id: String, data: String)
        /// `holder` now serves `stream`; every other replica closes its copy of it.
        case takeover(stream: String, holder: String)
        /// A client message (legacy SSE POST received by another replica).
        case inbound(data: String)
        /// The session was deleted: drop local copies.
        case ended
    }

    let pool: RedisConnectionPool
    let subscriber: RedisSubscriber
    let keys: ClusterKeys
    /// This process (messages it published itself are ignored when they come back).
    public let replicaID: String

    public init(pool: RedisConnectionPool, subscriber: RedisSubscriber, keys: ClusterKeys, replicaID: String) {
        self.pool = pool
        self.subscriber = subscriber
        self.keys = keys
        self.replicaID = replicaID
    }

    /// Publishes to the session's channel; how many replicas listen to it.
    @discardableResult
    public func publish(_ message: Message, session: String) async throws -> Int {
        Int(try await pool.send(["PUBLISH", keys.bus(session), Self.encode(message, origin: replicaID)]).int ?? 0)
    }

    /// Listens to the session's channel (returns once subscribed). `resync` is called after a
    /// Redis reconnect (messages may have been missed). Messages this replica sent are skipped.
    public func listen(
        session: String, onMessage: @escaping @Sendable (Message) -> Void, resync: @escaping @Sendable () -> Void
    ) async throws -> Subscription {
        let replicaID = self.replicaID
        let channel = keys.bus(session)
        let token = try await subscriber.subscribe(channel) { delivery in
            switch delivery {
            case .resubscribed: resync()
            case .message(let text):
                guard let (origin, message) = Self.decode(text), origin != replicaID else { return }
                onMessage(message)
            }
        }
        return Subscription(channel: channel, token: token, subscriber: subscriber)
    }

    /// A session's subscription; `cancel()` ends it.
    public struct Subscription: Sendable {
        let channel: String
        let token: Int
        let subscriber: RedisSubscriber

        public func cancel() async { await subscriber.unsubscribe(channel, token: token) }
    }

    static func encode(_ message: Message, origin: String) -> String {
        var object: [String: JSONValue] = ["o": .string(origin)]
        switch message {
        case .event(let stream, let id, let data):
            object["k"] = "event"
            object["s"] = .string(stream)
            object["i"] = .string(id)
            object["d"] = .string(data)
        case .takeover(let stream, let holder):
            object["k"] = "takeover"
            object["s"] = .string(stream)
            object["h"] = .string(holder)
        case .inbound(let data):
            object["k"] = "inbound"
            object["d"] = .string(data)
        case .ended:
            object["k"] = "ended"
        }
        return JSONCoding.serialize(.object(object))
    }

    static func decode(_ text: String) -> (origin: String, Message)? {
        guard let value = try? JSONCoding.parse(text), let origin = value["o"]?.stringValue else { return nil }
        switch value["k"]?.stringValue {
        case "event":
            guard let stream = value["s"]?.stringValue, let id = value["i"]?.stringValue, let data = value["d"]?.stringValue else { return nil }
            return (origin, .event(stream: stream, id: id, data: data))
        case "takeover":
            guard let stream = value["s"]?.stringValue, let holder = value["h"]?.stringValue else { return nil }
            return (origin, .takeover(stream: stream, holder: holder))
        case "inbound":
            guard let data = value["d"]?.stringValue else { return nil }
            return (origin, .inbound(data: data))
        case "ended": return (origin, .ended)
        default: return nil
        }
    }
}
