import ServiceContextModule
import Synchronization
import Tracing

/// The span type of `QlikTracer`. Thread-safe; ending it hands a `SpanRecord` to the span
/// processor, which never blocks (a full queue drops the span and counts the drop).
public final class QlikSpan: Tracing.Span {
    public let context: ServiceContext
    /// This span's W3C identity.
    public let spanContext: SpanContext
    public let parentSpanID: SpanID?
    public let kind: SpanKind
    public let isRecording: Bool
    private let startNanos: UInt64
    private let processor: (any SpanProcessor)?
    private let state: Mutex<State>

    private struct State {
        var operationName: String
        var attributes = SpanAttributes()
        var events: [SpanEvent] = []
        var links: [SpanRecord.Link] = []
        var status: SpanStatus?
        var ended = false
    }

    init(
        operationName: String,
        context: ServiceContext,
        spanContext: SpanContext,
        parentSpanID: SpanID?,
        kind: SpanKind,
        startNanos: UInt64,
        processor: (any SpanProcessor)?
    ) {
        self.context = context
        self.spanContext = spanContext
        self.parentSpanID = parentSpanID
        self.kind = kind
        self.startNanos = startNanos
        self.isRecording = spanContext.isSampled && processor != nil
        self.processor = processor
        self.state = Mutex(State(operationName: operationName))
    }

    public var operationName: String {
        get { state.withLock { $0.operationName } }
        set { state.withLock { if !$0.ended { $0.operationName = newValue } } }
    }

    public var attributes: SpanAttributes {
        get { state.withLock { $0.attributes } }
        set {
            guard isRecording else { return }
            state.withLock { if !$0.ended { $0.attributes = newValue } }
        }
    }

    public func setStatus(_ status: SpanStatus) {
        guard isRecording else { return }
        state.withLock { state in
            guard !state.ended else { return }
            // OTel: Ok is final; Error may not downgrade an Ok.
            if state.status?.code == .ok { return }
            state.status = status
        }
    }

    public func addEvent(_ event: SpanEvent) {
        guard isRecording else { return }
        state.withLock { state in
            guard !state.ended, state.events.count < QlikTracer.maxEventsPerSpan else { return }
            state.events.append(event)
        }
    }

    public func recordError<Instant: TracerInstant>(
        _ error: any Error, attributes: SpanAttributes, at instant: @autoclosure () -> Instant
    ) {
        guard isRecording else { return }
        let type = String(reflecting: Swift.type(of: error))
        var eventAttributes = attributes
        eventAttributes["exception.type"] = SpanAttribute.string(type)
        eventAttributes["exception.message"] = SpanAttribute.string(String(describing: error))
        let event = SpanEvent(name: "exception", at: instant(), attributes: eventAttributes)
        state.withLock { state in
            guard !state.ended else { return }
            state.attributes["error.type"] = SpanAttribute.string(type)
            if state.events.count < QlikTracer.maxEventsPerSpan { state.events.append(event) }
        }
    }

    public func addLink(_ link: SpanLink) {
        guard isRecording, let linked = link.context.spanContext else { return }
        state.withLock { state in
            guard !state.ended, state.links.count < QlikTracer.maxLinksPerSpan else { return }
            state.links.append(SpanRecord.Link(context: linked, attributes: link.attributes))
        }
    }

    public func end<Instant: TracerInstant>(at instant: @autoclosure () -> Instant) {
        let endNanos = instant().nanosecondsSinceEpoch
        let finished: State? = state.withLock { state in
            guard !state.ended else { return nil }
            state.ended = true
            return state
        }
        guard isRecording, let finished, let processor else { return }
        processor.onEnd(
            SpanRecord(
                context: spanContext,
                parentSpanID: parentSpanID,
                name: finished.operationName,
                kind: kind,
                startNanos: startNanos,
                endNanos: max(endNanos, startNanos),
                attributes: finished.attributes,
                events: finished.events,
                links: finished.links,
                status: finished.status
            ))
    }
}
