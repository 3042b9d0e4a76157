/// Decides whether a new span is recorded and exported.
///
/// Mirrors the OpenTelemetry SDK samplers named by `OTEL_TRACES_SAMPLER`: `always_on`,
/// `always_off`, `traceidratio`, and the `parentbased_*` forms that follow a parent's decision and
/// apply the inner sampler only to root spans.
public enum Sampler: Sendable, Equatable {
    case alwaysOn
    case alwaysOff
    case traceIDRatio(Double)
    indirect case parentBased(root: Sampler)

    /// Parses `OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG`.
    /// The default (no variable) is `parentbased_always_on`, as in the OpenTelemetry spec.
    public static func fromEnvironment(_ environment: [String: String]) throws -> Sampler {
        let name = environment["OTEL_TRACES_SAMPLER"]?.lowercased() ?? "parentbased_always_on"
        let argument = environment["OTEL_TRACES_SAMPLER_ARG"]
        func ratio() throws -> Double {
            guard let argument else { return 1.0 }
            guard let value = Double(argument), value >= 0, value <= 1 else {
                throw TelemetryConfigurationError.invalid(
                    variable: "OTEL_TRACES_SAMPLER_ARG", value: argument,
                    expected: "a number between 0 and 1, e.g. 0.25")
            }
            return value
        }
        switch name {
        case "always_on": return .alwaysOn
        case "always_off": return .alwaysOff
        case "traceidratio": return .traceIDRatio(try ratio())
        case "parentbased_always_on": return .parentBased(root: .alwaysOn)
        case "parentbased_always_off": return .parentBased(root: .alwaysOff)
        case "parentbased_traceidratio": return .parentBased(root: .traceIDRatio(try ratio()))
        default:
            throw TelemetryConfigurationError.invalid(
                variable: "OTEL_TRACES_SAMPLER", value: name,
                expected: "always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or parentbased_traceidratio")
        }
    }

    /// True when a span in `traceID` with `parent` should be sampled.
    public func shouldSample(traceID: TraceID, parent: SpanContext?) -> Bool {
        switch self {
        case .alwaysOn:
            return true
        case .alwaysOff:
            return false
        case .traceIDRatio(let ratio):
            if ratio >= 1 { return true }
            if ratio <= 0 { return false }
            // Compare the low 63 bits of the trace id with the ratio's bound, so that every
            // process sampling the same trace with the same ratio takes the same decision.
            let bound = UInt64(ratio * Double(UInt64(1) << 63))
            return (traceID.low & 0x7FFF_FFFF_FFFF_FFFF) < bound
        case .parentBased(let root):
            if let parent { return parent.isSampled }
            return root.shouldSample(traceID: traceID, parent: nil)
        }
    }
}
