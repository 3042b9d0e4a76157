import Logging

extension Logger.Metadata {
    /// `error.type` (the error's Swift type, as OpenTelemetry's `error.type` asks for a low-cardinality
    /// class) and `error.message` (its description, scrubbed like every value) for a log line.
    public static func error(_ error: any Error) -> Logger.Metadata {
        ["error.type": .string(String(describing: type(of: error))), "error.message": .string(String(describing: error))]
    }
}
