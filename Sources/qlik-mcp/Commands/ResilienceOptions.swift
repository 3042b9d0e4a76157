import ArgumentParser
import ClusterState
import Foundation
import Logging
import QlikTools
import Resilience

/// Circuit breakers, retries and the engine's request timeout (`serve`). Lists are
/// `key=value,…`; every key is optional.
struct ResilienceOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Engine breaker: window=10,min_calls=10,failure_rate=0.5,slow_call=5,slow_rate=0.8,open_for=10,probes=3 (seconds, shares). Env: QLIK_MCP_BREAKER_ENGINE.",
            valueName: "list"))
    var breakerEngine: String?
    @Option(help: ArgumentHelp("Per-tool breakers, same keys (default min_calls=20). Env: QLIK_MCP_BREAKER_TOOL.", valueName: "list"))
    var breakerTool: String?
    @Option(
        help: ArgumentHelp(
            "Retries of idempotent reads: attempts=3,base_ms=50,max_ms=2000,budget_ratio=0.2,budget_min_per_s=1. Env: QLIK_MCP_RETRY.", valueName: "list"))
    var retry: String?
    @Option(help: ArgumentHelp("Seconds an engine request may take before it fails (default 30). Env: QLIK_MCP_ENGINE_TIMEOUT.", valueName: "seconds"))
    var engineTimeout: Double?
    @OptionGroup var data: DataDirectoryOptions

    private func env(_ name: String) -> String? { ProcessEnvironment.current[name].flatMap { $0.isEmpty ? nil : $0 } }

    /// The engine request timeout.
    func engineRequestTimeout() throws -> Duration {
        let text = engineTimeout.map { String($0) } ?? env("QLIK_MCP_ENGINE_TIMEOUT") ?? "30"
        guard let seconds = Double(text), (0.05...3_600).contains(seconds) else {
            throw ValidationError("--engine-timeout must be between 0.05 and 3600 seconds (got '\(text)')")
        }
        return .milliseconds(Int64(seconds * 1000))
    }

    func settings() throws -> ToolResilience.Settings {
        var settings = ToolResilience.Settings()
        if let text = breakerEngine ?? env("QLIK_MCP_BREAKER_ENGINE") { settings.engine = try Self.breaker(text, base: settings.engine, flag: "breaker-engine") }
        if let text = breakerTool ?? env("QLIK_MCP_BREAKER_TOOL") { settings.tool = try Self.breaker(text, base: settings.tool, flag: "breaker-tool") }
        if let text = retry ?? env("QLIK_MCP_RETRY") {
            for (key, value) in try Self.pairs(text, flag: "retry") {
                switch key {
                case "attempts": settings.retry.maxAttempts = Int(try Self.number(value, key, 1...10, flag: "retry"))
                case "base_ms": settings.retry.baseDelay = .milliseconds(Int64(try Self.number(value, key, 0...60_000, flag: "retry")))
                case "max_ms": settings.retry.maxDelay = .milliseconds(Int64(try Self.number(value, key, 0...600_000, flag: "retry")))
                case "budget_ratio": settings.budget.ratio = try Self.number(value, key, 0...10, flag: "retry")
                case "budget_min_per_s": settings.budget.minimumPerSecond = try Self.number(value, key, 0...1_000, flag: "retry")
                default: throw ValidationError("--retry: unknown key '\(key)'; use attempts, base_ms, max_ms, budget_ratio, budget_min_per_s")
                }
            }
        }
        return settings
    }

    static func breaker(_ text: String, base: CircuitBreaker.Configuration, flag: String) throws -> CircuitBreaker.Configuration {
        var configuration = base
        for (key, value) in try pairs(text, flag: flag) {
            switch key {
            case "window": configuration.window = .seconds(Int64(try number(value, key, 1...3_600, flag: flag)))
            case "min_calls": configuration.minimumCalls = Int(try number(value, key, 1...1_000_000, flag: flag))
            case "failure_rate": configuration.failureRateThreshold = try number(value, key, 0.01...1, flag: flag)
            case "slow_call": configuration.slowCallDuration = .milliseconds(Int64(try number(value, key, 0.001...3_600, flag: flag) * 1000))
            case "slow_rate": configuration.slowCallRateThreshold = try number(value, key, 0.01...2, flag: flag)
            case "open_for": configuration.openFor = .milliseconds(Int64(try number(value, key, 0.01...3_600, flag: flag) * 1000))
            case "probes": configuration.halfOpenProbes = Int(try number(value, key, 1...1_000, flag: flag))
            default: throw ValidationError("--\(flag): unknown key '\(key)'; use window, min_calls, failure_rate, slow_call, slow_rate, open_for, probes")
            }
        }
        return configuration
    }

    static func pairs(_ text: String, flag: String) throws -> [(String, String)] {
        try text.split(separator: ",").map { item in
            let parts = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty else { throw ValidationError("--\(flag): '\(item)' is not key=value") }
            return (parts[0], parts[1])
        }
    }

    static func number(_ text: String, _ key: String, _ range: ClosedRange<Double>, flag: String) throws -> Double {
        guard let value = Double(text), range.contains(value) else {
            throw ValidationError("--\(flag): \(key) must be a number between \(range.lowerBound) and \(range.upperBound) (got '\(text)')")
        }
        return value
    }
}
