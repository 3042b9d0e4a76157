/// A configuration value that cannot be used, with what was expected instead.
public enum TelemetryConfigurationError: Error, CustomStringConvertible, Equatable {
    case invalid(variable: String, value: String, expected: String)

    public var description: String {
        switch self {
        case .invalid(let variable, let value, let expected):
            return "\(variable)='\(value)' is not valid: expected \(expected)"
        }
    }
}
