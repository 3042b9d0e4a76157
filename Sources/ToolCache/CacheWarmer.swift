import Logging
import QlikTools

/// Loads the metadata and master items of the configured apps into the cache at start-up: every
/// cacheable tool of those classes whose only required argument is `app_id`, run through the
/// cache layer as the server's own engine identity (the one calls use unless users are mapped
/// to their own Qlik identities). Progress is logged per app and counted
/// (`qlik_mcp_cache_warm_calls_total{outcome}`); failures are logged and skipped.
struct CacheWarmer: Sendable {
    let cache: ToolCacheLayer
    let registry: ToolRegistry

    /// The tools warmed for each app.
    var tools: [QlikTool] {
        registry.tools.filter { tool in
            guard tool.replacement == nil else { return false }
            let policy = ToolCachePolicies.policy(for: tool.name)
            guard policy.cacheClass == .metadata || policy.cacheClass == .masterItems else { return false }
            guard case .object(_, let properties, let required, _) = tool.input else { return false }
            return required == ["app_id"] && properties.contains { $0.0 == "app_id" }
        }
    }

    func run() async {
        let logger = cache.logger
        let apps: [String]
        switch cache.settings.warm {
        case .none: return
        case .apps(let ids): apps = ids
        case .all:
            do {
                apps = try await cache.backend.lister.listApps().map(\.id)
            } catch {
                logger.warning("cache warming skipped: the apps could not be listed", metadata: ["error.type": .string(String(describing: type(of: error)))])
                return
            }
        }
        let tools = self.tools
        let context = ToolContext(backend: cache.backend, sessionID: "qlik-mcp-cache-warm")
        logger.info("cache warming started", metadata: ["qlik_mcp.cache.apps": .stringConvertible(apps.count), "qlik_mcp.cache.tools": .stringConvertible(tools.count)])
        var warmed = 0
        for (index, app) in apps.enumerated() {
            if Task.isCancelled { return }
            var failures = 0
            for tool in tools {
                guard let arguments = try? ToolArguments(["app_id": .string(app)], schema: tool.input) else { continue }
                let handler = tool.handler
                let call = await cache.run(tool, arguments: arguments, context: context) { try await handler(arguments, context) }
                let ok: Bool
                if case .success = call.outcome { ok = true } else { ok = false }
                cache.metrics.warmCall(ok: ok)
                if !ok { failures += 1 }
            }
            if failures < tools.count { warmed += 1 }
            logger.info(
                "cache warming: app done",
                metadata: [
                    "qlik_mcp.app.id": .string(app), "qlik_mcp.cache.progress": .string("\(index + 1)/\(apps.count)"),
                    "qlik_mcp.cache.failed_calls": .stringConvertible(failures),
                ])
        }
        logger.info("cache warming finished", metadata: ["qlik_mcp.cache.apps": .stringConvertible(warmed)])
    }
}
