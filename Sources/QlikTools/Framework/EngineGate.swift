/// A check every engine access of a tool call makes first (set by the tool runner from the
/// engine's circuit breaker): while the breaker is open, `QlikBackend.withDoc`/`withGlobal` fail
/// at once — also for the engine reads the cache layer makes before a call (the session's
/// selections), which would otherwise wait for a hung engine's timeout.
public enum EngineGate {
    /// Engine id → the error to fail with now, or nil to go ahead.
    @TaskLocal public static var check: (@Sendable (String) -> (any Error)?)?
}
