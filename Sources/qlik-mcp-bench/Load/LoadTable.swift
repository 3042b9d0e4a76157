import Foundation

/// Prints `bench load` rows as a Markdown table per scenario (pasteable into BENCHMARKS.md).
struct LoadTable {
    let rows: [LoadRow]
    let targets: [BenchTarget]
    let plan: LoadRunPlan

    func print() {
        let machine = MachineFacts.current
        Swift.print("# qlik-mcp-bench load — \(machine.summary)")
        Swift.print("ratio = first target's throughput ÷ this target's throughput in the same scenario and mode (×10 means the baseline does 10 times as many)\n")
        for scenario in LoadScenario.allCases {
            let group = rows.filter { $0.scenario == scenario.rawValue }
            guard !group.isEmpty else { continue }
            Swift.print("## \(scenario.rawValue)\n")
            Swift.print("| target | mode | ops | throughput | p50 ms | p90 ms | p99 ms | max ms | errors | server CPU s | peak RSS MiB | ratio |")
            Swift.print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
            for row in group {
                if let skipped = row.skipped {
                    Swift.print("| \(row.target) | \(row.mode) | — | not run: \(skipped.replacingOccurrences(of: "|", with: "/").prefix(160)) | | | | | | | | |")
                    continue
                }
                let cells = [
                    row.target, row.mode, String(row.operations), "\(Self.number(row.throughput)) \(row.unit)",
                    Self.number(row.p50), Self.number(row.p90), Self.number(row.p99), Self.number(row.max), String(row.errors),
                    Self.number(row.cpuSeconds), Self.number(row.peakRSSMiB), row.baselineRatio.map { "×" + Self.number($0) } ?? "",
                ]
                Swift.print("| " + cells.joined(separator: " | ") + " |")
            }
            let ratios = group.compactMap { row in row.cacheHitRatio.map { "\(row.target) \(row.mode): \(Self.number($0 * 100)) %" } }
            if !ratios.isEmpty { Swift.print("\ncache hit ratio (answered from the cache / cacheable calls): " + ratios.joined(separator: "; ")) }
            for row in group where row.firstError != nil {
                Swift.print("\nfirst error of \(row.target) (\(row.mode)): \(row.firstError!.prefix(300))")
            }
            Swift.print("")
        }
        for target in targets { if let note = target.note { Swift.print("- \(target.name): \(note)") } }
    }

    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "—" }
        if value >= 100 { return String(format: "%.0f", value) }
        if value >= 10 { return String(format: "%.1f", value) }
        return String(format: "%.2f", value)
    }
}

/// The machine a run happened on (recorded with the results).
struct MachineFacts: Codable {
    var cores: Int
    var memoryGiB: Double
    var cpu: String
    var kernel: String

    static var current: MachineFacts {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }?.split(separator: ":", maxSplits: 1).last
        var name = utsname()
        uname(&name)
        let release = withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return MachineFacts(
            cores: ProcessInfo.processInfo.activeProcessorCount,
            memoryGiB: Double(ProcessInfo.processInfo.physicalMemory) / Double(1 << 30),
            cpu: model.map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown", kernel: "Linux \(release)")
    }

    var summary: String { "\(cores) cores (\(cpu)), \(String(format: "%.1f", memoryGiB)) GiB, \(kernel); load generator, servers and demo engine share the cores" }
}

/// The JSON written under `results/`.
struct LoadResultsFile: Codable {
    var commandLine: String
    var machine: MachineFacts
    var rows: [LoadRow]
    var notes: [String]

    func write(to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        try encoder.encode(self).write(to: url)
    }
}
