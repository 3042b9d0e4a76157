import Foundation
import Prometheus
import Synchronization

/// Samples the standard `process_*` metrics from `/proc/self` at scrape time (Linux only; on other
/// systems the families stay at zero). Hand-written: swift-prometheus has no process collector.
public final class ProcessMetricsCollector: Sendable {
    private let residentMemory: Gauge
    private let virtualMemory: Gauge
    private let cpuSeconds: Prometheus.Counter
    private let openFDs: Gauge
    private let maxFDs: Gauge
    private let startTime: Gauge
    private let threads: Gauge
    private let lastCPU = Mutex<Double>(0)

    public init(registry: PrometheusCollectorRegistry) {
        func gauge(_ name: String) -> Gauge { registry.makeGauge(descriptor: MetricCatalog.descriptor(name)) }
        residentMemory = gauge("process_resident_memory_bytes")
        virtualMemory = gauge("process_virtual_memory_bytes")
        openFDs = gauge("process_open_fds")
        maxFDs = gauge("process_max_fds")
        startTime = gauge("process_start_time_seconds")
        threads = gauge("process_threads")
        cpuSeconds = registry.makeCounter(descriptor: MetricCatalog.descriptor("process_cpu_seconds_total"))
        if let sample = ProcessSample.read() { startTime.set(to: sample.startTimeSeconds) }
    }

    /// Reads /proc and updates the gauges; called before each exposition.
    public func update() {
        guard let sample = ProcessSample.read() else { return }
        residentMemory.set(to: Double(sample.residentBytes))
        virtualMemory.set(to: Double(sample.virtualBytes))
        openFDs.set(to: Double(sample.openFDs))
        maxFDs.set(to: Double(sample.maxFDs))
        threads.set(to: Double(sample.threads))
        // The counter only moves forward: add what accrued since the previous scrape.
        let delta = lastCPU.withLock { last -> Double in
            let delta = max(0, sample.cpuSeconds - last)
            last = max(last, sample.cpuSeconds)
            return delta
        }
        if delta > 0 { cpuSeconds.increment(by: delta) }
    }
}

/// One reading of /proc/self/stat, /proc/self/fd and /proc/stat.
public struct ProcessSample: Sendable {
    public var residentBytes: Int
    public var virtualBytes: Int
    public var cpuSeconds: Double
    public var openFDs: Int
    public var maxFDs: Int
    public var threads: Int
    public var startTimeSeconds: Double

    public static func read() -> ProcessSample? {
        #if os(Linux)
            guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return nil }
            // Fields after "(comm)" start at field 3 (state); index 0 here is field 3.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            func field(_ number: Int) -> Double { Double(fields[number - 3]) ?? 0 }
            guard fields.count > 22 else { return nil }
            let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
            let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))
            var limit = rlimit()
            getrlimit(RLIMIT_NOFILE_VALUE, &limit)
            let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count).map { max(0, $0 - 1) } ?? 0
            return ProcessSample(
                residentBytes: Int(field(24) * pageSize),
                virtualBytes: Int(field(23)),
                cpuSeconds: (field(14) + field(15)) / ticks,
                openFDs: fds,
                maxFDs: Int(limit.rlim_cur),
                threads: Int(field(20)),
                startTimeSeconds: bootTime() + field(22) / ticks
            )
        #else
            return nil
        #endif
    }

    private static func bootTime() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("btime ") {
            return Double(line.dropFirst(6).trimmingCharacters(in: .whitespaces)) ?? 0
        }
        return 0
    }
}

#if os(Linux)
    private let RLIMIT_NOFILE_VALUE = __rlimit_resource_t(UInt32(RLIMIT_NOFILE.rawValue))
#endif
