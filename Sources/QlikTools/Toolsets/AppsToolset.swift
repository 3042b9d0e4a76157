import JSONCore
import QlikEngine

/// The `apps` toolset: which apps exist, what is in one, where they are published, and the engine.
enum AppsToolset {
    static let toolset = Toolset(
        name: "apps",
        description: "Find Qlik apps and describe them; engine information.",
        tools: [listApps, getApp, listStreams, getEngineInfo])

    static let appSummary = Schema.object(
        "An app.",
        properties: [
            ("id", .string("App id; pass it as app_id to other tools.")),
            ("name", .string("App name.")),
            ("description", .string("App description.")),
            ("stream", .string("Stream (Enterprise) or space (Cloud) it is published in.")),
            ("published", .boolean("Whether the app is published.")),
            ("last_reload_time", .string("Last successful reload, ISO 8601.")),
        ], required: ["id", "name"])

    static let listApps = QlikTool(
        name: "list_apps",
        title: "List apps",
        description: """
            Lists the Qlik apps the configured user can open, with id, name, description, stream and last reload time. \
            Use it first to find the app_id other tools need. Filter by a case-insensitive name search or a stream name; \
            results are paged (pass next_cursor back as cursor).
            """,
        toolset: "apps",
        input: .object(
            "Arguments.",
            properties: [
                ("search", .string("Case-insensitive text the app name must contain.", maxLength: 200)),
                ("stream", .string("Only apps published in this stream or space (exact name).", maxLength: 200)),
                ("limit", .integer("Apps per page.", minimum: 1, maximum: 500, defaultValue: 50)),
                ("cursor", .string("next_cursor of the previous page.", maxLength: 200)),
            ]),
        output: .object(
            "Apps.",
            properties: [
                ("apps", .array("The page of apps.", items: appSummary, maxItems: 500)),
                ("total", .integer("Apps matching the filters.", minimum: 0, maximum: Int.max)),
                ("next_cursor", .string("Cursor of the next page; absent on the last page.")),
            ], required: ["apps", "total"])
    ) { arguments, context in
        var apps = try await context.backend.lister.listApps(search: arguments.string("search"))
        if let stream = arguments.string("stream") { apps = apps.filter { $0.stream == stream } }
        apps.sort { $0.name.localizedCaseInsensitiveCompare($1.name) == .orderedAscending }
        let (page, next) = try Cursor.page(apps, cursor: arguments.string("cursor"), limit: arguments.int("limit") ?? 50)
        var structured: [String: JSONValue] = ["apps": .array(page.map(json)), "total": .number(Double(apps.count))]
        if let next { structured["next_cursor"] = .string(next) }
        let table = TextTable.render(
            headers: ["id", "name", "stream", "last reload"],
            rows: page.map { [$0.id, $0.name, $0.stream ?? "", $0.lastReloadTime ?? ""] })
        let footer = next.map { "\n\(apps.count) apps; more with cursor=\($0)" } ?? "\n\(apps.count) apps"
        return ToolOutput(structured: .object(structured), text: table + footer)
    }

    static func json(_ app: QlikAppSummary) -> JSONValue {
        var object: [String: JSONValue] = [
            "id": .string(app.id), "name": .string(app.name), "description": .string(app.description),
            "published": .bool(app.published),
        ]
        if let stream = app.stream { object["stream"] = .string(stream) }
        if let reload = app.lastReloadTime { object["last_reload_time"] = .string(reload) }
        return .object(object)
    }

    static let getApp = QlikTool(
        name: "get_app",
        title: "Describe an app",
        description: """
            Describes one app: title, description, stream, owner, last reload, and how big it is — numbers of tables, \
            fields, rows, master measures, master dimensions, sheets and variables. Use it to judge an app before exploring it.
            """,
        toolset: "apps",
        input: .object("Arguments.", properties: [("app_id", .string("App id from list_apps.", maxLength: 200))], required: ["app_id"]),
        output: .object(
            "The app.",
            properties: [
                ("id", .string("App id.")), ("title", .string("Title.")), ("description", .string("Description.")),
                ("stream", .string("Stream or space.")), ("owner", .string("Owner.")), ("last_reload_time", .string("Last reload.")),
                (
                    "counts",
                    .object(
                        "Sizes.",
                        properties: [
                            ("tables", .integer("Tables.", minimum: 0, maximum: Int.max)), ("fields", .integer("Fields.", minimum: 0, maximum: Int.max)),
                            ("rows", .integer("Rows over all tables.", minimum: 0, maximum: Int.max)),
                            ("measures", .integer("Master measures.", minimum: 0, maximum: Int.max)),
                            ("dimensions", .integer("Master dimensions.", minimum: 0, maximum: Int.max)),
                            ("sheets", .integer("Sheets.", minimum: 0, maximum: Int.max)), ("variables", .integer("Variables.", minimum: 0, maximum: Int.max)),
                        ], required: ["tables", "fields", "rows", "measures", "dimensions", "sheets", "variables"])
                ),
            ], required: ["id", "title", "counts"])
    ) { arguments, context in
        let appID = arguments.required("app_id")
        return try await context.backend.withDoc(appID, tag: context.sessionID) { doc, _ in
            let layout = try await doc.appLayout()
            let (tables, _) = try await doc.tablesAndKeys()
            let listLayout = try await doc.sessionLayout([
                "qInfo": ["qType": "mcp-app-counts"],
                "qMeasureListDef": ["qType": "measure"], "qDimensionListDef": ["qType": "dimension"],
                "qVariableListDef": ["qType": "variable"], "qAppObjectListDef": ["qType": "sheet"],
            ])
            func count(_ key: String, _ list: String) -> Int { listLayout[key]?[list]?.arrayValue?.count ?? 0 }
            var fieldNames = Set<String>()
            var rows = 0
            for table in tables {
                rows += table["qNoOfRows"]?.intValue ?? 0
                for field in table["qFields"]?.arrayValue ?? [] { if let name = field["qName"]?.stringValue { fieldNames.insert(name) } }
            }
            let counts: [String: Int] = [
                "tables": tables.count, "fields": fieldNames.count, "rows": rows,
                "measures": count("qMeasureList", "qItems"), "dimensions": count("qDimensionList", "qItems"),
                "sheets": count("qAppObjectList", "qItems"), "variables": count("qVariableList", "qItems"),
            ]
            let meta = layout["qMeta"]
            var structured: [String: JSONValue] = [
                "id": .string(appID), "title": layout["qTitle"] ?? .string(appID),
                "description": layout["description"] ?? meta?["description"] ?? "",
                "counts": .object(counts.mapValues { .number(Double($0)) }),
            ]
            if let stream = meta?["stream"]?["name"] { structured["stream"] = stream }
            if let owner = meta?["owner"] { structured["owner"] = owner }
            if let reload = layout["qLastReloadTime"] { structured["last_reload_time"] = reload }
            let text = """
                \(structured["title"]?.stringValue ?? appID) (\(appID)) — \(structured["description"]?.stringValue ?? "")
                stream: \(structured["stream"]?.stringValue ?? "-"), last reload: \(structured["last_reload_time"]?.stringValue ?? "-")
                \(counts["tables"]!) tables, \(counts["fields"]!) fields, \(counts["rows"]!) rows; \(counts["measures"]!) measures, \
                \(counts["dimensions"]!) dimensions, \(counts["sheets"]!) sheets, \(counts["variables"]!) variables
                """
            return ToolOutput(structured: .object(structured), text: text)
        }
    }

    static let listStreams = QlikTool(
        name: "list_streams",
        title: "List streams",
        description: "Lists the streams (Enterprise) or spaces (Cloud) that hold apps, with how many apps each holds.",
        toolset: "apps",
        input: .object("No arguments.", properties: []),
        output: .object(
            "Streams.",
            properties: [
                (
                    "streams",
                    .array(
                        "Streams with app counts.",
                        items: .object(
                            "A stream.",
                            properties: [
                                ("name", .string("Stream or space.")), ("app_count", .integer("Apps in it.", minimum: 0, maximum: Int.max)),
                            ], required: ["name", "app_count"]), maxItems: 10_000)
                )
            ], required: ["streams"])
    ) { _, context in
        let apps = try await context.backend.lister.listApps()
        let counts = Dictionary(grouping: apps.compactMap(\.stream), by: { $0 }).mapValues(\.count)
        let streams = counts.keys.sorted()
        return ToolOutput(
            structured: ["streams": .array(streams.map { ["name": .string($0), "app_count": .number(Double(counts[$0]!))] })],
            text: TextTable.render(headers: ["stream", "apps"], rows: streams.map { [$0, String(counts[$0]!)] }))
    }

    static let getEngineInfo = QlikTool(
        name: "get_engine_info",
        title: "Engine information",
        description: "Reports which Qlik backend this server talks to (demo, desktop, enterprise or cloud), its engine version, the authenticated user and connection health.",
        toolset: "apps",
        input: .object("No arguments.", properties: []),
        output: .object(
            "Engine information.",
            properties: [
                ("backend", .string("demo, desktop, enterprise or cloud.")), ("engine_url", .string("Engine base URL (no credentials).")),
                ("engine_version", .string("QIX component version.")), ("authenticated_user", .string("User the engine sees.")),
                ("healthy", .boolean("Whether the engine answered.")),
                ("pooled_connections", .integer("Open pooled connections to this engine.", minimum: 0, maximum: Int.max)),
            ], required: ["backend", "engine_url", "engine_version", "healthy"])
    ) { _, context in
        let backend = context.backend
        let (version, user) = try await backend.withGlobal { global in
            (try await global.engineVersion(), try await global.authenticatedUser())
        }
        let pooled = await backend.pool.connectionCount(engine: backend.endpoint.engineID)
        return ToolOutput(
            structured: [
                "backend": .string(backend.kind), "engine_url": .string(backend.endpoint.baseURL), "engine_version": .string(version),
                "authenticated_user": .string(user), "healthy": true, "pooled_connections": .number(Double(pooled)),
            ],
            text: "\(backend.kind) engine \(version) at \(backend.endpoint.baseURL), user \(user), healthy, \(pooled) pooled connection(s)")
    }
}

/// Every toolset in catalogue order.
public enum StandardToolsets {
    public static let all: [Toolset] = [AppsToolset.toolset, DataModelToolset.toolset, AnalyticsToolset.toolset, VisualizationToolset.toolset, GovernanceToolset.toolset]
}
