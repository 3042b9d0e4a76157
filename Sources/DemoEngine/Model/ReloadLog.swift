import Foundation
import Synchronization

/// The reload history of the demo apps (seeded with each app's past reloads, newest first) plus
/// the reloads run through `Doc.DoReloadEx` since the engine started. Bounded per app.
public final class ReloadLog: Sendable {
    /// A scheduled reload task, as QRS or Qlik Cloud would list it.
    public struct Task: Sendable {
        public let id, name, appID, schedule: String
        public let enabled: Bool
    }

    /// Most reloads kept per app (older ones are dropped).
    public static let maxPerApp = 200
    private let entries: Mutex<[String: [DemoApp.Reload]]>
    /// One daily task per app, at the hour of its last seeded reload.
    public let tasks: [Task]

    init(apps: [DemoApp]) {
        var seeded: [String: [DemoApp.Reload]] = [:]
        for app in apps { seeded[app.id] = app.reloads }
        entries = Mutex(seeded)
        tasks = apps.map { app in
            let hour = app.reloads.first.map { String($0.startTime.dropFirst(11).prefix(5)) } ?? "00:00"
            return Task(id: "task-\(app.id)", name: "Reload \(app.title)", appID: app.id, schedule: "daily at \(hour) UTC", enabled: true)
        }
    }

    /// Reloads of `appID`, newest first.
    public func history(appID: String) -> [DemoApp.Reload] {
        entries.withLock { $0[appID] ?? [] }
    }

    /// End time of the newest successful reload.
    public func lastReloadTime(appID: String) -> String? {
        history(appID: appID).first { $0.status == "SUCCEEDED" }?.endTime
    }

    func record(_ reload: DemoApp.Reload, appID: String) {
        entries.withLock { entries in
            var list = entries[appID] ?? []
            list.insert(reload, at: 0)
            if list.count > Self.maxPerApp { list.removeLast(list.count - Self.maxPerApp) }
            entries[appID] = list
        }
    }

    /// ISO-8601 UTC with milliseconds, as Qlik writes timestamps.
    static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: true).timeSeparator(.colon)) + "Z"
    }
}
