import JSONCore

/// What `Doc.DoReloadEx` reports.
public struct ReloadOutcome: Sendable, Equatable {
    public let success: Bool
    public let scriptLogFile: String?
    public let endedWithMemoryConstraint: Bool
}

/// `Global.GetProgress` data: counts, persistent (log) and transient messages.
public struct ReloadProgress: Sendable, Equatable {
    public let started: Bool
    public let finished: Bool
    public let completed: Int
    public let total: Int
    public let milliseconds: Int
    public let persistentMessages: String
    public let transientMessage: String

    init(_ data: JSONValue) {
        started = data["qStarted"]?.boolValue ?? false
        finished = data["qFinished"]?.boolValue ?? false
        completed = data["qCompleted"]?.intValue ?? 0
        total = data["qTotal"]?.intValue ?? 0
        milliseconds = data["qMillisecs"]?.intValue ?? 0
        persistentMessages = data["qPersistentProgress"]?.stringValue ?? ""
        transientMessage = data["qTransientProgress"]?.stringValue ?? ""
    }
}

extension Doc {
    /// `DoReloadEx`: runs the load script. Reloads take as long as the data takes, so the call has
    /// its own timeout instead of the connection's request timeout.
    public func reload(partial: Bool = false, timeout: Duration) async throws -> ReloadOutcome {
        let response = try await connection.call(
            handle: handle, method: "DoReloadEx",
            params: ["qParams": ["qMode": 0, "qPartial": .bool(partial), "qDebug": false]],
            timeout: timeout)
        let result = try member("qResult", of: response.result, method: "DoReloadEx")
        return ReloadOutcome(
            success: result["qSuccess"]?.boolValue ?? false, scriptLogFile: result["qScriptLogFile"]?.stringValue,
            endedWithMemoryConstraint: result["qEndedWithMemoryConstraint"]?.boolValue ?? false)
    }

    /// `DoSave`: persists the app (after a reload).
    public func save() async throws {
        try await call("DoSave")
    }
}

extension Global {
    /// `GetProgress(0)`: progress of the reload running on this connection.
    public func progress() async throws -> ReloadProgress {
        ReloadProgress(try member("qProgressData", of: try await call("GetProgress", ["qRequestId": 0]), method: "GetProgress"))
    }
}
