import Logging
import QlikTools
import ServiceLifecycle

/// The cache's background work, as a service of the server's group: start-up (generations,
/// listing, the replicas' events), warming (in the background: readiness does not wait for it),
/// then the last-reload-time check every `versionInterval`, until graceful shutdown.
public struct CacheMaintenance: Service, CustomStringConvertible {
    let cache: ToolCacheLayer
    let registry: ToolRegistry

    public init(cache: ToolCacheLayer, registry: ToolRegistry) {
        self.cache = cache
        self.registry = registry
    }

    public var description: String { "CacheMaintenance" }

    public func run() async throws {
        // A service that returns early ends the server's group: with the cache off it just
        // waits for the shutdown.
        guard cache.settings.mode != .off else {
            try? await gracefulShutdown()
            return
        }
        let cache = self.cache
        let warmer = CacheWarmer(cache: cache, registry: registry)
        await cancelWhenGracefulShutdown {
            await cache.start()
            await withTaskGroup(of: Void.self) { group in
                if cache.settings.warm != .none { group.addTask { await warmer.run() } }
                while !Task.isCancelled {
                    try? await Task.sleep(for: cache.settings.versionInterval)
                    if Task.isCancelled { break }
                    await cache.checkVersions()
                }
                group.cancelAll()
            }
        }
    }
}
