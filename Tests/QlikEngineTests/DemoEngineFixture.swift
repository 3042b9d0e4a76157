import DemoEngine
import Foundation
import Logging
import QlikEngine
import ServiceLifecycle

/// One demo engine per test process, on an ephemeral loopback port, with the standard apps.
enum DemoEngineFixture {
    static let catalog = DemoAppCatalog.standard()
    static let faults = FaultController()
    private static let server = DemoEngineServer(
        catalog: catalog, configuration: .init(host: "127.0.0.1", port: 0), faults: faults,
        logger: Logger(label: "test.demo-engine") { _ in SwiftLogNoOpLogHandler() })
    private static let started: Task<Int, Never> = Task {
        Task.detached { try? await server.run() }
        return await server.listeningPort()
    }

    static func port() async -> Int { await started.value }

    static func endpoint() async -> QIXEndpoint { .desktop(host: "127.0.0.1", port: await port()) }

    static var activeConnections: Int { server.activeConnections }

    /// A connection with the sales app open.
    static func openSales(options: QIXConnection.Options = .init()) async throws -> (QIXConnection, Doc) {
        let connection = try await QIXConnection.connect(to: await endpoint(), appID: "sales-analytics", options: options)
        let doc = try await Global(connection: connection).openDoc("sales-analytics")
        return (connection, doc)
    }
}

/// A second engine whose faults a test may change without disturbing the others.
final class FaultyEngine: Sendable {
    let faults = FaultController()
    let server: DemoEngineServer

    init() {
        server = DemoEngineServer(
            catalog: DemoEngineFixture.catalog, configuration: .init(host: "127.0.0.1", port: 0), faults: faults,
            logger: Logger(label: "test.faulty") { _ in SwiftLogNoOpLogHandler() })
    }

    func run<T: Sendable>(_ body: @Sendable (QIXEndpoint) async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.server.run() }
            let port = await server.listeningPort()
            defer { group.cancelAll() }
            return try await body(.desktop(host: "127.0.0.1", port: port))
        }
    }
}
