import Foundation

/// The apps a demo engine serves, built deterministically from seeds.
public final class DemoAppCatalog: Sendable {
    public let apps: [DemoApp]
    /// Reload history and tasks (reloads run through the engine are added to it).
    public let reloadLog: ReloadLog

    public init(apps: [DemoApp]) {
        self.apps = apps
        self.reloadLog = ReloadLog(apps: apps)
    }

    /// When the app's data was last reloaded (a reload through the engine moves it).
    public func lastReloadTime(_ app: DemoApp) -> String {
        reloadLog.lastReloadTime(appID: app.id) ?? app.lastReloadTime
    }

    /// The standard sample apps: "Sales Analytics" (120,000 order lines) and "HR Insights".
    public static func standard(orderLines: Int = 120_000) -> DemoAppCatalog {
        DemoAppCatalog(apps: [SalesApp.make(orderLines: orderLines), HRApp.make()])
    }

    /// Looks an app up by id (case-insensitive), also accepting a `.qvf` suffix as Desktop clients send.
    public func app(id: String) -> DemoApp? {
        var key = id
        if key.lowercased().hasSuffix(".qvf") { key = String(key.dropLast(4)) }
        return apps.first { $0.id.caseInsensitiveCompare(key) == .orderedSame }
    }
}
