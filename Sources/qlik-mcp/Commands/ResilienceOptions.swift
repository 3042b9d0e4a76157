import ArgumentParser
import ClusterState
import Foundation
import Logging
import QlikTools
import Resilience
import ServerSettings

/// Circuit breakers, retries and the engine's request timeout (`serve`). Lists are
/// `key=value,…`; every key is optional.
struct ResilienceOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "on (default): breakers, retries and the retry budget around engine calls; off: every call goes straight to the engine (to measure or rule them out). Env: QLIK_MCP_RESILIENCE.",
            valueName: "on|off"))
    var resilience: String?
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

    /// The engine request timeout: flag, environment, config file, 30 s.
    func engineRequestTimeout(_ file: ServerConfigFile.Resilience = .init()) throws -> Duration {
        let text = engineTimeout.map { String($0) } ?? env("QLIK_MCP_ENGINE_TIMEOUT") ?? file.engineTimeout.map { String($0) } ?? "30"
        guard let seconds = Double(text), ResilienceKeys.engineTimeout.contains(seconds) else {
            throw ValidationError("--engine-timeout must be between 0.05 and 3600 seconds (got '\(text)')")
        }
        return .milliseconds(Int64(seconds * 1000))
    }

    /// Whether breakers and retries run (flag, environment, config file `resilience.enabled`, on).
    func enabled(_ file: ServerConfigFile.Resilience = .init()) throws -> Bool {
        guard let text = resilience ?? env("QLIK_MCP_RESILIENCE") else { return file.enabled ?? true }
        guard ["on", "off"].contains(text) else { throw ValidationError("--resilience must be on or off (got '\(text)')") }
        return text == "on"
    }

    /// Breakers and retries: the config file's `resilience:` section, then each flag (or its
    /// environment variable) over it, key by key.
    func settings(_ file: ServerConfigFile.Resilience = .init()) throws -> ToolResilience.Settings {
        var settings = ToolResilience.Settings()
        for (key, value) in file.breakers?["engine"] ?? [:] { Self.apply(breaker: key, value, to: &settings.engine) }
        for (key, value) in file.breakers?["tool"] ?? [:] { Self.apply(breaker: key, value, to: &settings.tool) }
        for (key, value) in file.retry ?? [:] { Self.apply(retry: key, value, to: &settings) }
        if let text = breakerEngine ?? env("QLIK_MCP_BREAKER_ENGINE") {
            for (key, value) in try Self.values(text, ResilienceKeys.breaker, flag: "breaker-engine") { Self.apply(breaker: key, value, to: &settings.engine) }
        }
        if let text = breakerTool ?? env("QLIK_MCP_BREAKER_TOOL") {
            for (key, value) in try Self.values(text, ResilienceKeys.breaker, flag: "breaker-tool") { Self.apply(breaker: key, value, to: &settings.tool) }
        }
        if let text = retry ?? env("QLIK_MCP_RETRY") {
            for (key, value) in try Self.values(text, ResilienceKeys.retry, flag: "retry") { Self.apply(retry: key, value, to: &settings) }
        }
        return settings
    }

    /// One breaker setting (a key of `ResilienceKeys.breaker`, already range-checked).
    static func apply(breaker key: String, _ value: Double, to configuration: inout CircuitBreaker.Configuration) {
        switch key {
        case "window": configuration.window = .seconds(Int64(value))
        case "min_calls": configuration.minimumCalls = Int(value)
        case "failure_rate": configuration.failureRateThreshold = value
        case "slow_call": configuration.slowCallDuration = .milliseconds(Int64(value * 1000))
        case "slow_rate": configuration.slowCallRateThreshold = value
        case "open_for": configuration.openFor = .milliseconds(Int64(value * 1000))
        case "probes": configuration.halfOpenProbes = Int(value)
        default: break
        }
    }

    /// One retry setting (a key of `ResilienceKeys.retry`, already range-checked).
    static func apply(retry key: String, _ value: Double, to settings: inout ToolResilience.Settings) {
        switch key {
        case "attempts": settings.retry.maxAttempts = Int(value)
        case "base_ms": settings.retry.baseDelay = .milliseconds(Int64(value))
        case "max_ms": settings.retry.maxDelay = .milliseconds(Int64(value))
        case "budget_ratio": settings.budget.ratio = value
        case "budget_min_per_s": settings.budget.minimumPerSecond = value
        default: break
        }
    }

    /// `key=value,…` read against `table` (known keys, numbers in range), in the order given.
    static func values(_ text: String, _ table: [String: ClosedRange<Double>], flag: String) throws -> [(String, Double)] {
        try text.split(separator: ",").map { item in
            let parts = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty else { throw ValidationError("--\(flag): '\(item)' is not key=value") }
            guard let range = table[parts[0]] else {
                throw ValidationError("--\(flag): unknown key '\(parts[0])'; use \(table.keys.sorted().joined(separator: ", "))")
            }
            guard let value = Double(parts[1]), range.contains(value) else {
                throw ValidationError("--\(flag): \(parts[0]) must be a number between \(range.lowerBound) and \(range.upperBound) (got '\(parts[1])')")
            }
            return (parts[0], value)
        }
    }
}
