/// A check every engine access of a tool call makes first (set by the tool runner from the
/// engine's circuit breaker): while the breaker is open, `QlikBackend.withDoc`/`withGlobal` fail
/// at once — also for the engine reads the cache layer makes before a call (the session's
/// selections), which would otherwise wait for a hung engine's timeout.
///
/// A struct around the closure rather than an optional closure type in the task-local: the
/// release build (Swift 6, whole-module specialisation of `TaskLocal.withValue`) crashed pushing
/// a task-local of type `(@Sendable (String) -> (any Error)?)?` (null type metadata); a nominal
/// type is reached through its metadata accessor.
public struct EngineGate: Sendable {
    /// Engine id → the error to fail with now, or nil to go ahead.
    public let rejection: @Sendable (String) -> (any Error)?

    public init(_ rejection: @escaping @Sendable (String) -> (any Error)?) {
        self.rejection = rejection
    }

    /// The gate of the running tool call, if any.
    @TaskLocal public static var current: EngineGate?

    /// The error the current call's engine access to `engineID` must fail with now, or nil.
    public static func check(_ engineID: String) -> (any Error)? { current?.rejection(engineID) }
}
