import Foundation

/// Where a session's SSE events are kept for `Last-Event-ID` resumption: in process
/// (`MemoryEventLog`) or in Redis (`RedisEventLog`, shared by every replica). Event ids are
/// `<stream>-<sequence>` with one sequence per session, so an id names its stream and position.
public protocol SessionEventLog: Sendable {
    /// Stores a message sent on `stream`; its event id, and how many old events were evicted.
    func append(stream: String, data: Data) async throws -> (id: String, evicted: Int)
    /// The id of a priming event for `stream`: the current position, storing nothing.
    func primingID(stream: String) async throws -> String
    /// Events of the same stream after `lastEventID`.
    func replay(after lastEventID: String) async throws -> Replay
    /// Forgets every event (the session ended).
    func clear() async
}

/// What a replay finds.
public enum Replay: Sendable {
    /// (event id, message) pairs, oldest first.
    case events(stream: String, [(String, Data)])
    /// The id is malformed, or messages after it were evicted: replaying would lose some.
    case unavailable
}

/// Event ids: `<stream>-<sequence>`.
public enum EventID {
    /// (stream, sequence), or nil when malformed.
    public static func parse(_ id: String) -> (stream: String, sequence: Int)? {
        guard id.utf8.count <= 200, let dash = id.lastIndex(of: "-"), let position = Int(id[id.index(after: dash)...]), position >= 0 else { return nil }
        let stream = String(id[..<dash])
        guard !stream.isEmpty else { return nil }
        return (stream, position)
    }
}

/// The in-process log: an `EventStore` behind an actor.
public actor MemoryEventLog: SessionEventLog {
    private var store: EventStore

    public init(maxEvents: Int, maxBytes: Int) {
        store = EventStore(maxEvents: maxEvents, maxBytes: maxBytes)
    }

    public func append(stream: String, data: Data) -> (id: String, evicted: Int) { store.append(stream: stream, data: data) }
    public func primingID(stream: String) -> String { store.primingID(stream: stream) }
    public func replay(after lastEventID: String) -> Replay { store.replay(after: lastEventID) }
    public func clear() { store = EventStore(maxEvents: store.maxEvents, maxBytes: store.maxBytes) }
}
