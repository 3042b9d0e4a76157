import DemoEngine
import Logging
import QlikEngine
import QlikTools

/// The embedded demo engine as the tools' backend: a `DemoEngineServer` on a loopback port, a
/// `QlikBackend` that reaches it over real QIX/WebSocket, and the demo reload history.
public struct DemoBackend: Sendable {
    public let server: DemoEngineServer
    public let catalog: DemoAppCatalog

    public init(catalog: DemoAppCatalog = .standard(), faults: FaultController = FaultController(), logger: Logger) {
        self.catalog = catalog
        self.server = DemoEngineServer(catalog: catalog, configuration: .init(host: "127.0.0.1", port: 0), faults: faults, logger: logger)
    }

    /// The backend for the tools; waits until the engine listens (run `server` first).
    public func backend(pool: QIXConnectionPool = QIXConnectionPool()) async -> QlikBackend {
        let port = await server.listeningPort()
        return QlikBackend(
            kind: "demo", endpoint: .desktop(host: "127.0.0.1", port: port), pool: pool,
            reloads: DemoReloadSource(catalog: catalog))
    }
}

/// Reload tasks and history of the demo apps (reloads run through `reload_app` appear in it).
struct DemoReloadSource: ReloadSource {
    let catalog: DemoAppCatalog

    func reloadTasks(appID: String?) async throws -> [ReloadTaskSummary] {
        catalog.reloadLog.tasks.filter { appID == nil || catalog.app(id: appID!)?.id == $0.appID }.map { task in
            let last = catalog.reloadLog.history(appID: task.appID).first
            return ReloadTaskSummary(
                id: task.id, name: task.name, appID: task.appID, enabled: task.enabled, schedule: task.schedule,
                lastStatus: last?.status, lastStart: last?.startTime, lastEnd: last?.endTime)
        }
    }

    func reloadHistory(appID: String, limit: Int) async throws -> [ReloadRecord] {
        guard let app = catalog.app(id: appID) else { return [] }
        return catalog.reloadLog.history(appID: app.id).prefix(limit).map { reload in
            ReloadRecord(
                id: reload.id, appID: app.id, status: reload.status, startTime: reload.startTime, endTime: reload.endTime,
                durationSeconds: reload.durationSeconds, log: reload.log)
        }
    }
}
