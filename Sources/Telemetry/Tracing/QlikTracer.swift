import Instrumentation
import ServiceContextModule
import Synchronization
import Tracing

/// qlik-mcp's swift-distributed-tracing `Tracer`: W3C ids and propagation, parent-based sampling,
/// and finished spans handed to a `SpanProcessor` (normally the `BatchSpanProcessor`).
///
/// Parent/child relations follow the task-local `ServiceContext`, so a span started inside
/// `withSpan` — in the same task or a child task — is a child of it.
public final class QlikTracer: Tracer {
    public typealias Span = QlikSpan

    static let maxEventsPerSpan = 128
    static let maxLinksPerSpan = 128

    public let sampler: Sampler
    private let processor: (any SpanProcessor)?
    private let random: Mutex<Xoshiro256>

    /// - Parameters:
    ///   - sampler: decides which traces are recorded.
    ///   - processor: receives finished sampled spans; nil records nothing (propagation still works).
    public init(sampler: Sampler = .parentBased(root: .alwaysOn), processor: (any SpanProcessor)?) {
        self.sampler = sampler
        self.processor = processor
        var seed = SystemRandomNumberGenerator()
        self.random = Mutex(Xoshiro256(seed: &seed))
    }

    public func startSpan<Instant: TracerInstant>(
        _ operationName: String,
        context: @autoclosure () -> ServiceContext,
        ofKind kind: SpanKind,
        at instant: @autoclosure () -> Instant,
        function: String,
        file fileID: String,
        line: UInt
    ) -> QlikSpan {
        var spanServiceContext = context()
        let parent = spanServiceContext.spanContext
        let (traceID, spanID) = random.withLock { generator -> (TraceID, SpanID) in
            (parent?.traceID ?? TraceID.random(using: &generator), SpanID.random(using: &generator))
        }
        let sampled = sampler.shouldSample(traceID: traceID, parent: parent)
        let spanContext = SpanContext(
            traceID: traceID,
            spanID: spanID,
            traceFlags: sampled ? 0x01 : 0x00,
            traceState: parent?.traceState
        )
        spanServiceContext.spanContext = spanContext
        return QlikSpan(
            operationName: operationName,
            context: spanServiceContext,
            spanContext: spanContext,
            parentSpanID: parent?.spanID,
            kind: kind,
            startNanos: instant().nanosecondsSinceEpoch,
            processor: processor
        )
    }

    public func forceFlush() {
        processor?.requestFlush()
    }

    public func extract<Carrier, Extract>(
        _ carrier: Carrier, into context: inout ServiceContext, using extractor: Extract
    ) where Extract: Extractor, Extract.Carrier == Carrier {
        guard let traceparent = extractor.extract(key: W3CPropagation.traceparentHeader, from: carrier),
            let remote = W3CPropagation.parse(
                traceparent: traceparent,
                tracestate: extractor.extract(key: W3CPropagation.tracestateHeader, from: carrier))
        else { return }
        context.spanContext = remote
    }

    public func inject<Carrier, Inject>(
        _ context: ServiceContext, into carrier: inout Carrier, using injector: Inject
    ) where Inject: Injector, Inject.Carrier == Carrier {
        guard let spanContext = context.spanContext else { return }
        injector.inject(W3CPropagation.traceparent(for: spanContext), forKey: W3CPropagation.traceparentHeader, into: &carrier)
        if let state = spanContext.traceState {
            injector.inject(state, forKey: W3CPropagation.tracestateHeader, into: &carrier)
        }
    }
}

/// xoshiro256** — a fast, well-distributed PRNG for span and trace ids, seeded from the system
/// generator. Hand-written because the standard library exposes only the (syscall-backed) system
/// generator, which costs several hundred nanoseconds per id.
struct Xoshiro256: RandomNumberGenerator {
    private var s0, s1, s2, s3: UInt64

    init<G: RandomNumberGenerator>(seed: inout G) {
        repeat {
            (s0, s1, s2, s3) = (seed.next(), seed.next(), seed.next(), seed.next())
        } while s0 | s1 | s2 | s3 == 0
    }

    mutating func next() -> UInt64 {
        let result = rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        return result
    }

    private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}
