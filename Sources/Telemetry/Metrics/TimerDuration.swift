import Metrics

extension Timer {
    /// Records a `Duration` (swift-metrics timers take nanoseconds).
    public func record(duration: Duration) {
        let (seconds, attoseconds) = duration.components
        recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
