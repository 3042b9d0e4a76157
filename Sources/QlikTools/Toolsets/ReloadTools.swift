import Foundation
import JSONCore
import QlikEngine

/// Reload tools of the `governance` toolset: scheduled tasks, reload history, and `reload_app`
/// (the one write tool: hidden in read-only mode, reports MCP progress while it runs).
enum ReloadTools {
    static let appID = DataModelToolset.appID

    static func source(_ context: ToolContext) throws -> any ReloadSource {
        guard let source = context.backend.reloads else {
            throw ToolError(
                code: "RELOAD_HISTORY_UNSUPPORTED", category: .unsupported,
                message: "the \(context.backend.kind) backend has no reload tasks or reload history (Qlik Sense Desktop keeps none)",
                remediation: "use get_app for the last reload time, or reload_app to reload now")
        }
        return source
    }

    /// Throws not-found when `appID` is not an app of the backend (APIs answer an empty list instead).
    static func requireApp(_ appID: String, _ context: ToolContext) async throws {
        let apps = try await context.backend.lister.listApps().map(\.id)
        guard apps.contains(where: { $0.caseInsensitiveCompare(appID) == .orderedSame }) else {
            throw ToolError.notFound("app", appID, candidates: apps, listTool: "list_apps")
        }
    }

    static let listReloadTasks = QlikTool(
        name: "list_reload_tasks",
        title: "List reload tasks",
        description:
            "Lists scheduled reload tasks (QRS tasks on Enterprise, reload tasks on Qlik Cloud), all or one app's, with schedule and the status of the last run. Use it to answer 'when does this app refresh?'.",
        toolset: "governance",
        input: .object("Arguments.", properties: [("app_id", .string("Only tasks of this app.", maxLength: 500))]),
        output: .object(
            "Tasks.",
            properties: [
                (
                    "tasks",
                    .array(
                        "Reload tasks.",
                        items: .object(
                            "A task.",
                            properties: [
                                ("id", .string("Task id.")), ("name", .string("Task name.")), ("app_id", .string("App it reloads.")),
                                ("enabled", .boolean("Whether the task runs.")), ("schedule", .string("Schedule or trigger.")),
                                ("last_status", .string("Status of the last run.")), ("last_start", .string("Start of the last run.")),
                                ("last_end", .string("End of the last run.")),
                            ], required: ["id", "name", "app_id", "enabled"]), maxItems: 10_000)
                )
            ], required: ["tasks"])
    ) { arguments, context in
        let appID = arguments.string("app_id")
        let tasks = try await source(context).reloadTasks(appID: appID)
        if let appID, tasks.isEmpty { try await requireApp(appID, context) }
        let items: [JSONValue] = tasks.prefix(10_000).map { task in
            var item: [String: JSONValue] = ["id": .string(task.id), "name": .string(task.name), "app_id": .string(task.appID), "enabled": .bool(task.enabled)]
            item["schedule"] = task.schedule.map { .string($0) }
            item["last_status"] = task.lastStatus.map { .string($0) }
            item["last_start"] = task.lastStart.map { .string($0) }
            item["last_end"] = task.lastEnd.map { .string($0) }
            return .object(item)
        }
        return ToolOutput(
            structured: ["tasks": .array(items)],
            text: tasks.isEmpty
                ? "no reload tasks"
                : TextTable.render(
                    headers: ["task", "app", "enabled", "schedule", "last status", "last end"],
                    rows: tasks.map { [$0.name, $0.appID, $0.enabled ? "yes" : "no", $0.schedule ?? "", $0.lastStatus ?? "", $0.lastEnd ?? ""] }))
    }

    static let getReloadHistory = QlikTool(
        name: "get_reload_history",
        title: "Reload history",
        description:
            "Returns an app's recent reloads, newest first: status (SUCCEEDED, FAILED, RUNNING, QUEUED, CANCELED, SKIPPED), start, end, duration and, on request, the script log. Use it to answer 'is this data fresh?' or 'why did last night's reload fail?'.",
        toolset: "governance",
        input: .object(
            "Arguments.",
            properties: [
                appID,
                ("limit", .integer("Most reloads returned.", minimum: 1, maximum: 100, defaultValue: 10)),
                ("include_log", .boolean("Include each reload's script log (last 20,000 characters).", defaultValue: false)),
            ], required: ["app_id"]),
        output: .object(
            "Reloads.",
            properties: [
                ("app_id", .string("App.")),
                (
                    "reloads",
                    .array(
                        "Reloads, newest first.",
                        items: .object(
                            "A reload.",
                            properties: [
                                ("id", .string("Reload id.")), ("status", .string("Outcome.")), ("start_time", .string("Start, ISO 8601.")),
                                ("end_time", .string("End, ISO 8601.")), ("duration_seconds", .number("Duration.")), ("log", .string("Script log.")),
                            ], required: ["id", "status"]), maxItems: 100)
                ),
            ], required: ["app_id", "reloads"])
    ) { arguments, context in
        let appID = arguments.required("app_id")
        let includeLog = arguments.bool("include_log") ?? false
        let records = try await source(context).reloadHistory(appID: appID, limit: arguments.int("limit") ?? 10)
        if records.isEmpty { try await requireApp(appID, context) }
        let items: [JSONValue] = records.map { record in
            var item: [String: JSONValue] = ["id": .string(record.id), "status": .string(record.status)]
            item["start_time"] = record.startTime.map { .string($0) }
            item["end_time"] = record.endTime.map { .string($0) }
            item["duration_seconds"] = record.durationSeconds.map { .number($0) }
            if includeLog { item["log"] = record.log.map { .string($0) } }
            return .object(item)
        }
        var text =
            records.isEmpty
            ? "no reloads recorded for \(appID)"
            : TextTable.render(
                headers: ["reload", "status", "start", "end", "seconds"],
                rows: records.map { [$0.id, $0.status, $0.startTime ?? "", $0.endTime ?? "", $0.durationSeconds.map { String(format: "%.1f", $0) } ?? ""] })
        if includeLog {
            for record in records where !(record.log ?? "").isEmpty { text += "\n\n--- \(record.id) log ---\n\(record.log ?? "")" }
        }
        return ToolOutput(structured: ["app_id": .string(appID), "reloads": .array(items)], text: text)
    }

    static let pollInterval: Duration = .milliseconds(500)

    static let reloadApp = QlikTool(
        name: "reload_app",
        title: "Reload an app",
        description: """
            Reloads an app's data now by running its load script, then saves the app. This changes the app for every user: \
            only call it when the user asked for fresh data. Sends progress notifications while the reload runs and returns \
            the outcome with the tail of the script log. partial=true runs a partial reload (keeps data the script does not replace).
            """,
        toolset: "governance",
        input: .object(
            "Arguments.",
            properties: [
                appID,
                ("partial", .boolean("Partial reload.", defaultValue: false)),
                ("timeout_seconds", .integer("Give up waiting after this long (the engine may still finish the reload).", minimum: 5, maximum: 3_600, defaultValue: 600)),
            ], required: ["app_id"]),
        output: .object(
            "Reload outcome.",
            properties: [
                ("app_id", .string("App.")), ("success", .boolean("Whether the reload succeeded.")),
                ("partial", .boolean("Whether it was a partial reload.")), ("duration_seconds", .number("Wall time of reload and save.")),
                ("script_log_file", .string("Engine-side path of the script log.")), ("log_tail", .string("Last lines of the script log.")),
            ], required: ["app_id", "success", "partial", "duration_seconds"]),
        readOnly: false, destructive: true, idempotent: false
    ) { arguments, context in
        let appID = arguments.required("app_id")
        let partial = arguments.bool("partial") ?? false
        let timeout = Duration.seconds(arguments.int("timeout_seconds") ?? 600)
        let progress = context.progress
        return try await context.backend.withDoc(appID, tag: context.sessionID) { doc, lease in
            let start = ContinuousClock.now
            await progress?.advance("reload of \(appID) started")
            let outcome = try await withThrowingTaskGroup(of: ReloadOutcome?.self) { group in
                group.addTask { try await doc.reload(partial: partial, timeout: timeout) }
                group.addTask {
                    // Polls GetProgress on the same connection while DoReloadEx runs.
                    while true {
                        try await Task.sleep(for: pollInterval)
                        guard let state = try? await lease.global.progress(), !state.finished else { continue }
                        let message = state.transientMessage.isEmpty ? state.persistentMessages.split(separator: "\n").last.map(String.init) : state.transientMessage
                        await progress?.advance(message ?? "reloading")
                    }
                }
                defer { group.cancelAll() }
                while let next = try await group.next() {
                    if let outcome = next { return outcome }
                }
                throw QIXClientError.protocolViolation("DoReloadEx returned nothing")
            }
            context.backend.fieldNames.invalidate(doc.genericID)
            let log = (try? await lease.global.progress().persistentMessages) ?? ""
            let tail = log.split(separator: "\n").suffix(20).joined(separator: "\n")
            guard outcome.success else {
                throw ToolError(
                    code: "RELOAD_FAILED", category: .engineError,
                    message: "the reload of \(appID) failed" + (tail.isEmpty ? "" : ": \(tail.split(separator: "\n").last ?? "")"),
                    remediation: "read the script log (get_reload_history with include_log) and fix the script or its data connections")
            }
            await progress?.advance("reload finished; saving the app")
            try await doc.save()
            let seconds = (ContinuousClock.now - start).seconds
            await progress?.advance("reload of \(appID) done", final: true)
            var structured: [String: JSONValue] = [
                "app_id": .string(appID), "success": true, "partial": .bool(partial),
                "duration_seconds": .number((seconds * 1000).rounded() / 1000), "log_tail": .string(tail),
            ]
            structured["script_log_file"] = outcome.scriptLogFile.map { .string($0) }
            return ToolOutput(
                structured: .object(structured),
                text: "reloaded \(appID)\(partial ? " (partial)" : "") in \(String(format: "%.2f", seconds)) s" + (tail.isEmpty ? "" : "\n\n\(tail)"))
        }
    }
}
