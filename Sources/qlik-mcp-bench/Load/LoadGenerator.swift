import Foundation
import Histogram
import Synchronization

/// How the load generator paces its operations.
enum LoadMode: Sendable, CustomStringConvertible {
    /// `concurrency` workers, each starting its next operation when the previous one is answered.
    case closed(concurrency: Int)
    /// Operations started at a fixed rate whatever the answers; latency counts from the intended
    /// start, so a stalled server is not hidden (no coordinated omission).
    case open(perSecond: Double, maxInFlight: Int)

    var description: String {
        switch self {
        case .closed(let concurrency): return "closed c=\(concurrency)"
        case .open(let rate, _): return "open \(Int(rate))/s"
        }
    }
}

/// Bounds of one measured run.
struct LoadPlan: Sendable {
    var mode: LoadMode
    var duration: Duration
    /// Most operations measured (the run ends at whichever bound comes first).
    var maxOperations: Int
    /// Untimed operations before the measurement (spread over the workers in closed mode).
    var warmup: Int
}

/// What one measured run saw: a latency histogram in microseconds, counts and the first error.
struct LoadStats: Sendable {
    var latencyMicros = Histogram<UInt64>(highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three)
    var operations = 0
    var errors = 0
    var seconds = 0.0
    var firstError: String?

    var throughput: Double { seconds > 0 ? Double(operations) / seconds : 0 }
    func percentileMillis(_ percentile: Double) -> Double {
        operations == 0 ? .nan : Double(latencyMicros.valueAtPercentile(percentile)) / 1_000
    }
    var maxMillis: Double { operations == 0 ? .nan : Double(latencyMicros.max) / 1_000 }

    mutating func record(micros: UInt64, failure: String?) {
        _ = latencyMicros.record(max(1, micros))
        operations += 1
        if let failure {
            errors += 1
            if firstError == nil { firstError = failure }
        }
    }

    mutating func merge(_ other: LoadStats) {
        latencyMicros.add(other.latencyMicros)
        operations += other.operations
        errors += other.errors
        if firstError == nil { firstError = other.firstError }
    }
}

/// The load generator: runs `operation` (which returns nil on success or a failure description)
/// according to a plan. Operation `n` goes to worker/slot `n`; the caller maps that to a session.
enum LoadGenerator {
    typealias Operation = @Sendable (_ index: Int) async -> String?

    static func run(_ plan: LoadPlan, operation: @escaping Operation) async -> LoadStats {
        switch plan.mode {
        case .closed(let concurrency): return await closed(plan, concurrency: concurrency, operation: operation)
        case .open(let rate, let cap): return await open(plan, rate: rate, maxInFlight: cap, operation: operation)
        }
    }

    private static func closed(_ plan: LoadPlan, concurrency: Int, operation: @escaping Operation) async -> LoadStats {
        // Warm-up operations are spread over the workers (at least one each when there is any),
        // so a slow target is not warmed up `concurrency` times over.
        let warmupPerWorker = plan.warmup == 0 ? 0 : max(1, (plan.warmup + concurrency - 1) / concurrency)
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<concurrency { group.addTask { for _ in 0..<warmupPerWorker { _ = await operation(worker) } } }
        }
        let budget = OperationBudget(plan.maxOperations)
        let started = monotonicNanos()
        let deadline = started + UInt64(plan.duration.components.seconds) * 1_000_000_000 + UInt64(plan.duration.components.attoseconds / 1_000_000_000)
        var total = await withTaskGroup(of: LoadStats.self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    var stats = LoadStats()
                    while monotonicNanos() < deadline, budget.take() {
                        let start = monotonicNanos()
                        let failure = await operation(worker)
                        stats.record(micros: (monotonicNanos() - start) / 1_000, failure: failure)
                    }
                    return stats
                }
            }
            return await group.reduce(into: LoadStats()) { $0.merge($1) }
        }
        total.seconds = Double(monotonicNanos() - started) / 1e9
        return total
    }

    private static func open(_ plan: LoadPlan, rate: Double, maxInFlight: Int, operation: @escaping Operation) async -> LoadStats {
        for index in 0..<plan.warmup { _ = await operation(index) }
        let count = min(plan.maxOperations, Int(rate * Double(plan.duration.components.seconds)))
        let interval = 1e9 / rate
        let clock = ContinuousClock()
        let origin = clock.now
        let started = monotonicNanos()
        var total = await withTaskGroup(of: LoadStats.self) { group in
            var stats = LoadStats()
            var inFlight = 0
            for index in 0..<count {
                let intended = origin.advanced(by: .nanoseconds(Int64(Double(index) * interval)))
                try? await clock.sleep(until: intended)
                // At the in-flight bound the next start waits for an answer; its latency still
                // counts from the intended start.
                while inFlight >= maxInFlight, let done = await group.next() { stats.merge(done); inFlight -= 1 }
                inFlight += 1
                group.addTask {
                    var one = LoadStats()
                    let failure = await operation(index)
                    let elapsed = clock.now - intended
                    one.record(micros: UInt64(elapsed.components.seconds) * 1_000_000 + UInt64(elapsed.components.attoseconds / 1_000_000_000_000), failure: failure)
                    return one
                }
            }
            for await done in group { stats.merge(done) }
            return stats
        }
        total.seconds = Double(monotonicNanos() - started) / 1e9
        return total
    }
}

/// A shared count of operations left in a closed-loop run.
private final class OperationBudget: Sendable {
    private let issued = Atomic<Int>(0)
    private let limit: Int

    init(_ limit: Int) { self.limit = limit }

    /// True while the budget lasts.
    func take() -> Bool { issued.add(1, ordering: .relaxed).newValue <= limit }
}
