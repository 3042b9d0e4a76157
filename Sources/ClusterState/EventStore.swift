import Foundation

/// The resumability store of one session: SSE events by stream, bounded by count and bytes
/// (oldest evicted first). Event ids are `<stream>-<sequence>`, so a `Last-Event-ID` names its
/// stream and position. Every stream starts with a priming event at the current position, so a
/// client that reconnects before any message still resumes exactly.
public struct EventStore: Sendable {
    struct Event: Sendable {
        let stream: String
        let sequence: Int
        let data: Data
        var id: String { "\(stream)-\(sequence)" }
    }

    let maxEvents: Int
    let maxBytes: Int
    private var events: [Event] = []
    private var head = 0
    private(set) var bytes = 0
    private var sequence = 0
    /// Events evicted so far (each one a message a late reconnect can no longer replay).
    private(set) var evicted = 0
    /// Sequence of the newest evicted event (eviction is global and in order).
    private var evictedUpTo = 0

    public init(maxEvents: Int, maxBytes: Int) {
        self.maxEvents = max(1, maxEvents)
        self.maxBytes = max(1, maxBytes)
    }

    /// Stores a message sent on `stream` and returns its event id. Returns the number of events
    /// evicted to make room as well.
    public mutating func append(stream: String, data: Data) -> (id: String, evicted: Int) {
        sequence += 1
        let event = Event(stream: stream, sequence: sequence, data: data)
        events.append(event)
        bytes += data.count
        var dropped = 0
        while events.count - head > maxEvents || (bytes > maxBytes && events.count - head > 1) {
            bytes -= events[head].data.count
            evictedUpTo = events[head].sequence
            head += 1
            dropped += 1
        }
        evicted += dropped
        if head > 1_024 && head * 2 > events.count {
            events.removeFirst(head)
            head = 0
        }
        return (event.id, dropped)
    }

    /// The id of a priming event for `stream`: the current position, storing nothing.
    public func primingID(stream: String) -> String { "\(stream)-\(sequence)" }

    /// Events of the same stream after `lastEventID`.
    public func replay(after lastEventID: String) -> Replay {
        guard let (stream, position) = EventID.parse(lastEventID), position <= sequence else { return .unavailable }
        // Anything evicted after the position could have belonged to this stream.
        guard position >= evictedUpTo else { return .unavailable }
        return .events(stream: stream, events[head...].filter { $0.stream == stream && $0.sequence > position }.map { ($0.id, $0.data) })
    }

    public var count: Int { events.count - head }
}
