import JSONCore
import QlikTools

/// The `admin` toolset (scope `qlik:admin`): `flush_cache`, and the dead-letter tools of `QlikTools`.
public enum CacheAdminTools {
    /// The toolset acting on `cache`; nil gives the same surface without a cache behind it (the
    /// command line checks `--toolsets` / `--disable-tools` with it before the engine starts).
    public static func toolset(_ cache: ToolCacheLayer?, resilience: ToolResilience? = nil) -> Toolset {
        Toolset(
            name: "admin", description: "Server administration: the tool cache and the failed operations kept for a retry.",
            tools: [flushCache(cache)] + DeadLetterTools.tools(resilience))
    }

    static func flushCache(_ cache: ToolCacheLayer?) -> QlikTool {
        QlikTool(
            name: "flush_cache",
            title: "Flush the cache",
            description: """
                Drops cached tool answers — of one app, or of every app when app_id is omitted — on every replica, so the \
                next calls read from the Qlik engine. Use it when an app changed outside qlik-mcp and answers must reflect it now.
                """,
            toolset: "admin",
            input: .object("Arguments.", properties: [("app_id", .string("Only this app's answers (default: all).", maxLength: 500))]),
            output: .object(
                "Result.",
                properties: [
                    ("scope", .string("The app flushed, or * for all.")),
                    ("generation", .integer("The new flush generation of the scope.", minimum: 0, maximum: Int.max)),
                    ("mode", .string("The cache mode: off, memory or redis.")),
                ], required: ["scope", "generation", "mode"]),
            readOnly: false, destructive: false, idempotent: true
        ) { arguments, _ in
            guard let cache else {
                throw ToolError(code: "CACHE_UNAVAILABLE", category: .unsupported, message: "this process has no tool cache", remediation: "call flush_cache on the server")
            }
            let app = arguments.string("app_id").flatMap { $0.isEmpty ? nil : $0 }
            let generation = await cache.flush(app: app)
            let scope = app ?? "*"
            return ToolOutput(
                structured: ["scope": .string(scope), "generation": .number(Double(generation)), "mode": .string(cache.settings.mode.rawValue)],
                text: app.map { "flushed the cached answers of \($0)" } ?? "flushed every cached answer")
        }
    }
}
