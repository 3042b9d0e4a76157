import DemoEngine
import Foundation
import JSONCore
import Logging
import MCP
import QlikEngine
import QlikTools
import Synchronization
import TestSupport

@testable import ToolCache

/// A demo engine per test (its own request counter and faults), a backend on it, and the tool
/// registry with a cache layer in front of it.
struct CacheFixture: Sendable {
    static let catalog = DemoAppCatalog.standard(orderLines: 5_000)
    static let quiet = Logger(label: "test.cache") { _ in SwiftLogNoOpLogHandler() }

    let server: DemoEngineServer
    let backend: QlikBackend
    let faults: FaultController

    /// Runs `body` with a demo engine listening (plain `ws://`, or TLS with client certificates
    /// when `tls` — then the backend is an Enterprise one acting as `SVC\qlik-mcp`).
    static func with<T: Sendable>(
        tls: Bool = false, sectionAccess: SectionAccess = SectionAccess(), _ body: @Sendable (CacheFixture) async throws -> T
    ) async throws -> T {
        let faults = FaultController()
        var configuration = DemoEngineServer.Configuration(host: "127.0.0.1", port: 0)
        configuration.sectionAccess = sectionAccess
        let pki = TestCertificates.shared
        if tls { configuration.tls = try pki.serverTLS(requireClientCertificate: true) }
        let server = DemoEngineServer(catalog: catalog, configuration: configuration, faults: faults, logger: quiet)
        // Enterprise lists apps through QRS, which the demo engine does not serve: the listing
        // comes from a plain engine on the same catalog (same apps, same reload times).
        let listing = DemoEngineServer(catalog: catalog, configuration: .init(host: "127.0.0.1", port: 0), faults: faults, logger: quiet)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            if tls { group.addTask { try await listing.run() } }
            defer { group.cancelAll() }
            let port = await server.listeningPort()
            let backend: QlikBackend
            if tls {
                let endpoint = try QIXEndpoint.enterprise(
                    host: "localhost", port: port,
                    certificates: .init(clientCertificate: pki.clientCertificate, clientKey: pki.clientKey, rootCA: pki.caCertificate),
                    userDirectory: "SVC", userID: "qlik-mcp")
                backend = QlikBackend(
                    kind: "enterprise", endpoint: endpoint, lister: AppLister(endpoint: .desktop(host: "127.0.0.1", port: await listing.listeningPort())),
                    reloads: nil)
            } else {
                backend = QlikBackend(kind: "demo", endpoint: .desktop(host: "127.0.0.1", port: port))
            }
            let fixture = CacheFixture(server: server, backend: backend, faults: faults)
            let result = try await body(fixture)
            await backend.pool.closeIdle()
            return result
        }
    }

    /// QIX requests the engine has answered so far.
    var engineRequests: Int { server.requests.snapshot.values.reduce(0, +) }

    /// A cache layer on this engine.
    func layer(_ settings: CacheSettings = CacheSettings(), shared: (any SharedCacheTier)? = nil, clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 })
        -> ToolCacheLayer
    {
        ToolCacheLayer(settings: settings, backend: backend, shared: shared, logger: Self.quiet, clock: clock)
    }
}

/// One tool call's answer as a client sees it.
struct CallAnswer: Sendable {
    let structured: JSONValue
    let isError: Bool
    let cache: String?
    let tier: String?
    let age: Double?
    let reason: String?
}

extension ToolCacheLayer {
    /// Calls `name` through a registry that uses this cache, as `backend` (default: the layer's).
    func call(
        _ name: String, _ arguments: JSONValue = [:], session: String = "s1", backend: QlikBackend? = nil, bypass: Bool = false
    ) async throws -> CallAnswer {
        var registry = try ToolRegistry(toolsets: StandardToolsets.all + [CacheAdminTools.toolset(self)])
        registry.cache = self
        let context = ToolContext(backend: backend ?? self.backend, sessionID: session, directives: CallDirectives(cacheBypass: bypass))
        let result = try await registry.call(name, arguments: arguments, context: context)
        let meta = result._meta?.fields ?? [:]
        return CallAnswer(
            structured: result.structuredContent.map(ValueBridge.json) ?? .null, isError: result.isError == true,
            cache: meta["cache"]?.stringValue, tier: meta["cacheTier"]?.stringValue,
            age: meta["cacheAgeSeconds"].flatMap { ValueBridge.json($0).doubleValue }, reason: meta["cacheBypassReason"]?.stringValue)
    }
}

/// A clock tests move by hand (TTL expiry without waiting).
final class ManualClock: Sendable {
    private let now = Mutex(Date().timeIntervalSince1970)
    func read() -> Double { now.withLock { $0 } }
    func advance(_ seconds: Double) { now.withLock { $0 += seconds } }
}
