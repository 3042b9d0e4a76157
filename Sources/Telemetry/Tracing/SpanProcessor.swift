/// Receives finished spans. Implementations must return quickly and never block the caller.
public protocol SpanProcessor: Sendable {
    /// Called once per finished, sampled span.
    func onEnd(_ span: SpanRecord)
    /// Asks for queued spans to be exported soon; does not wait.
    func requestFlush()
}
