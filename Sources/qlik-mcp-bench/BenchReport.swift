import Foundation

/// Rows of a benchmark result, printed as an aligned table and optionally as JSON.
struct BenchReport {
    struct Row: Codable {
        var name: String
        var value: Double
        var unit: String
        var target: String?
        var meetsTarget: Bool?
    }

    var title: String
    var rows: [Row] = []

    mutating func add(_ name: String, _ value: Double, _ unit: String, target: String? = nil, meets: Bool? = nil) {
        rows.append(Row(name: name, value: value, unit: unit, target: target, meetsTarget: meets))
    }

    func printTable() {
        print("# \(title)")
        let width = rows.map(\.name.count).max() ?? 10
        for row in rows {
            let value = row.value >= 100 ? String(format: "%.0f", row.value) : String(format: "%.3f", row.value)
            var line = row.name.padding(toLength: width + 2, withPad: " ", startingAt: 0) + value + " " + row.unit
            if let target = row.target {
                line = line.padding(toLength: width + 30, withPad: " ", startingAt: 0) + "target \(target)"
                if let meets = row.meetsTarget { line += meets ? "  ok" : "  MISSED" }
            }
            print(line)
        }
    }

    func writeJSON(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(["title": AnyCodableRows(title: title, rows: rows)]).write(to: URL(fileURLWithPath: path))
    }

    private struct AnyCodableRows: Codable {
        var title: String
        var rows: [Row]
    }
}

/// Monotonic nanoseconds for benchmark timing.
func monotonicNanos() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
}

/// The median and 99th percentile of latency samples (any unit).
struct Percentiles: Sendable {
    let p50: Double
    let p99: Double

    /// From unsorted samples; there must be at least one.
    init(_ samples: [Double]) {
        let sorted = samples.sorted()
        p50 = sorted[sorted.count / 2]
        p99 = sorted[min(sorted.count - 1, sorted.count * 99 / 100)]
    }
}

/// Calls `body` `warmup` times untimed, then `count` times timed; each sample is the elapsed
/// nanoseconds divided by `divisor` (1_000 for µs, 1e6 for ms).
func measureLatencies(count: Int, warmup: Int, divisor: Double, _ body: () async throws -> Void) async rethrows -> Percentiles {
    for _ in 0..<warmup { try await body() }
    var samples: [Double] = []
    samples.reserveCapacity(count)
    for _ in 0..<count {
        let start = monotonicNanos()
        try await body()
        samples.append(Double(monotonicNanos() - start) / divisor)
    }
    return Percentiles(samples)
}

/// Microseconds per call of `body` over `iterations` calls, after a warm-up of a tenth of them.
func microsecondsPerCall<T>(iterations: Int, _ body: () async throws -> T) async throws -> Double {
    for _ in 0..<max(1, iterations / 10) { _ = try await body() }
    let start = monotonicNanos()
    for _ in 0..<iterations { _ = try await body() }
    return Double(monotonicNanos() - start) / Double(iterations) / 1_000
}
