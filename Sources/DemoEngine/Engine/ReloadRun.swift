import Foundation
import JSONCore

/// One reload of a demo app. The sample data is generated, not loaded, so a reload re-reads the
/// generated tables: it produces the script log a real reload would (one "Lines fetched" line per
/// table), records the reload in the app's history and moves its last reload time.
struct ReloadRun {
    let id: String
    let logLines: [String]
    let milliseconds: Int
    let logFile: String

    static func run(app: DemoApp, partial: Bool, log: ReloadLog) -> ReloadRun {
        let started = Date()
        let clock = ContinuousClock.now
        var lines = ["\(ReloadLog.timestamp(started)) Execution started\(partial ? " (partial reload)" : "")."]
        for table in app.model.tables {
            lines.append("\(table.name) << \(table.name)")
            lines.append("Lines fetched: \(table.rowCount.formatted(.number.grouping(.automatic).locale(Locale(identifier: "en_US"))))")
        }
        let ended = Date()
        let elapsed = ContinuousClock.now - clock
        let milliseconds = Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
        lines.append("\(ReloadLog.timestamp(ended)) Execution finished.")
        let id = "r-" + UUID().uuidString.lowercased().prefix(8)
        log.record(
            DemoApp.Reload(
                id: id, status: "SUCCEEDED", startTime: ReloadLog.timestamp(started), endTime: ReloadLog.timestamp(ended),
                durationSeconds: Double(milliseconds) / 1000, log: lines.joined(separator: "\n")), appID: app.id)
        return ReloadRun(id: id, logLines: lines, milliseconds: milliseconds, logFile: "/demo/Logs/Script/\(app.id).\(id).log")
    }

    /// `GetProgress` data for this (finished) reload.
    var progressData: JSONValue {
        [
            "qStarted": true, "qFinished": true, "qCompleted": .number(Double(logLines.count)), "qTotal": .number(Double(logLines.count)),
            "qKB": 0, "qMillisecs": .number(Double(milliseconds)), "qUserInteractionWanted": false,
            "qPersistentProgress": .string(logLines.joined(separator: "\n")), "qTransientProgress": "", "qErrorData": [],
        ]
    }

    static let notStarted: JSONValue = [
        "qStarted": false, "qFinished": false, "qCompleted": 0, "qTotal": 0, "qKB": 0, "qMillisecs": 0,
        "qUserInteractionWanted": false, "qPersistentProgress": "", "qTransientProgress": "", "qErrorData": [],
    ]
}
