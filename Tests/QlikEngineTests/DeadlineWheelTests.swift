import QlikEngine
import Synchronization
import Testing

@Suite("Deadline wheel")
struct DeadlineWheelTests {
    @Test("a deadline fires once, after its timeout; a cancelled one never fires; the wheel empties")
    func firesAndCancels() async throws {
        let wheel = DeadlineWheel(tick: .milliseconds(10))
        let fired = Mutex<[String]>([])
        let start = ContinuousClock.now
        let elapsed: Duration = await withCheckedContinuation { continuation in
            let cancelled = wheel.schedule(after: .milliseconds(20)) { fired.withLock { $0.append("cancelled") } }
            _ = wheel.schedule(after: .milliseconds(60)) {
                fired.withLock { $0.append("kept") }
                continuation.resume(returning: ContinuousClock.now - start)
            }
            wheel.cancel(cancelled)
        }
        #expect(elapsed >= .milliseconds(60))
        #expect(fired.withLock { $0 } == ["kept"])
        #expect(wheel.pending == 0)
        // Registrations after the wheel went idle wake it again.
        let again: Bool = await withCheckedContinuation { continuation in
            _ = wheel.schedule(after: .milliseconds(1)) { continuation.resume(returning: true) }
        }
        #expect(again)
    }
}
