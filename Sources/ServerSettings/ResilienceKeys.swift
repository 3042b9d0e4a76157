/// The keys of the breaker and retry settings and the values each accepts: one table for the
/// flags (`--breaker-engine window=10,…`, `--retry attempts=3,…`) and the config file's
/// `resilience:` section. Durations are seconds unless the key says `_ms`; rates are shares (0…1).
public enum ResilienceKeys {
    /// The breaker classes that take settings.
    public static let breakerClasses = ["engine", "tool"]

    public static let breaker: [String: ClosedRange<Double>] = [
        "window": 1...3_600,
        "min_calls": 1...1_000_000,
        "failure_rate": 0.01...1,
        "slow_call": 0.001...3_600,
        "slow_rate": 0.01...2,
        "open_for": 0.01...3_600,
        "probes": 1...1_000,
    ]

    public static let retry: [String: ClosedRange<Double>] = [
        "attempts": 1...10,
        "base_ms": 0...60_000,
        "max_ms": 0...600_000,
        "budget_ratio": 0...10,
        "budget_min_per_s": 0...1_000,
    ]

    /// Seconds an engine request may take.
    public static let engineTimeout: ClosedRange<Double> = 0.05...3_600
}
