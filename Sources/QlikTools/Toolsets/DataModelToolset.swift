import Foundation
import JSONCore
import QlikEngine

/// The `data_model` toolset: tables, fields, keys, values and statistics of an app.
enum DataModelToolset {
    static let toolset = Toolset(
        name: "data_model",
        description: "Explore an app's data model: tables, fields, keys, field values and statistics, table previews.",
        tools: [getDataModel, listFields, getFieldValues, getFieldStatistics, previewTable, searchValues])

    static let appID = ("app_id", Schema.string("App id from list_apps.", maxLength: 200))
    static func count(_ description: String) -> Schema { .integer(description, minimum: 0, maximum: Int.max) }

    /// The field names of an app (for "did you mean" suggestions), from GetTablesAndKeys.
    static func fieldNames(_ doc: Doc, _ context: ToolContext) async throws -> [String] {
        try await fieldLookup(doc, context).names
    }

    /// Field names of the app, sorted and as a set; from the backend's cache when fresh.
    static func fieldLookup(_ doc: Doc, _ context: ToolContext) async throws -> (names: [String], lookup: Set<String>) {
        let cache = context.backend.fieldNames
        let identity = context.backend.endpoint.identity
        if let cached = cache.names(doc.genericID, identity: identity) { return cached }
        let (tables, _) = try await doc.tablesAndKeys()
        let names = Array(Set(tables.flatMap { ($0["qFields"]?.arrayValue ?? []).compactMap { $0["qName"]?.stringValue } })).sorted()
        cache.store(names, for: doc.genericID, identity: identity)
        return (names, Set(names))
    }

    /// Fails with not_found (and a suggestion) unless `field` exists.
    static func requireField(_ field: String, in doc: Doc, _ context: ToolContext) async throws {
        let (names, lookup) = try await fieldLookup(doc, context)
        guard lookup.contains(field) else { throw ToolError.notFound("field", field, candidates: names, listTool: "list_fields") }
    }

    /// A field reference usable in an expression.
    static func bracketed(_ field: String) -> String { "[" + field.replacingOccurrences(of: "]", with: "]]") + "]" }

    static let getDataModel = QlikTool(
        name: "get_data_model",
        title: "Data model",
        description: """
            Returns an app's data model: every table with its row count and fields (key fields marked), and the \
            associations — the key fields that link tables. Synthetic keys ($Syn) and synthetic tables are flagged, \
            since they usually mean a modelling problem.
            """,
        toolset: "data_model",
        input: .object("Arguments.", properties: [appID], required: ["app_id"]),
        output: .object(
            "The data model.",
            properties: [
                (
                    "tables",
                    .array(
                        "Tables.",
                        items: .object(
                            "A table.",
                            properties: [
                                ("name", .string("Table name.")), ("rows", count("Rows.")),
                                (
                                    "fields",
                                    .array(
                                        "Fields.",
                                        items: .object(
                                            "A field of the table.",
                                            properties: [
                                                ("name", .string("Field name.")), ("distinct_values", count("Distinct values in this table.")),
                                                ("key_type", .string("NOT_KEY, ANY_KEY or PRIMARY_KEY.")),
                                            ], required: ["name", "key_type"]), maxItems: 100_000)
                                ),
                                ("synthetic", .boolean("Synthetic table.")),
                            ], required: ["name", "rows", "fields"]), maxItems: 10_000)
                ),
                (
                    "associations",
                    .array(
                        "Key fields and the tables they link.",
                        items: .object(
                            "An association.",
                            properties: [
                                ("field", .string("Key field.")), ("tables", .array("Linked tables.", items: .string("Table."), maxItems: 10_000)),
                                ("synthetic", .boolean("Synthetic key.")),
                            ], required: ["field", "tables"]), maxItems: 100_000)
                ),
                ("has_synthetic_keys", .boolean("Whether any synthetic key exists.")),
            ], required: ["tables", "associations", "has_synthetic_keys"])
    ) { arguments, context in
        try await context.backend.withDoc(arguments.required("app_id"), tag: context.sessionID) { doc, _ in
            let (tables, keys) = try await doc.tablesAndKeys()
            let tableJSON: [JSONValue] = tables.map { table in
                [
                    "name": table["qName"] ?? "", "rows": table["qNoOfRows"] ?? 0, "synthetic": table["qIsSynthetic"] ?? false,
                    "fields": .array(
                        (table["qFields"]?.arrayValue ?? []).map { field in
                            ["name": field["qName"] ?? "", "distinct_values": field["qnPresentDistinctValues"] ?? 0, "key_type": field["qKeyType"] ?? "NOT_KEY"]
                        }),
                ]
            }
            let associations: [JSONValue] = keys.flatMap { key -> [JSONValue] in
                (key["qKeyFields"]?.arrayValue ?? []).map { field in
                    let name = field.stringValue ?? ""
                    return ["field": .string(name), "tables": key["qTables"] ?? [], "synthetic": .bool(name.hasPrefix("$Syn"))]
                }
            }
            let synthetic = associations.contains { $0["synthetic"] == true } || tables.contains { $0["qIsSynthetic"] == true }
            var lines = tables.map { table -> String in
                let fields = (table["qFields"]?.arrayValue ?? []).map { field -> String in
                    let name = field["qName"]?.stringValue ?? ""
                    return field["qKeyType"]?.stringValue == "NOT_KEY" ? name : "\(name) (key)"
                }
                return "\(table["qName"]?.stringValue ?? "") — \(table["qNoOfRows"]?.intValue ?? 0) rows: \(fields.joined(separator: ", "))"
            }
            lines.append(
                "links: " + associations.map { "\($0["field"]?.stringValue ?? "") ↔ \(($0["tables"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ", "))" }.joined(separator: "; "))
            if synthetic { lines.append("warning: synthetic keys present") }
            return ToolOutput(
                structured: ["tables": .array(tableJSON), "associations": .array(associations), "has_synthetic_keys": .bool(synthetic)],
                text: lines.joined(separator: "\n"))
        }
    }

    static let listFields = QlikTool(
        name: "list_fields",
        title: "List fields",
        description: """
            Lists an app's fields with the tables they come from, their number of distinct values (cardinality), \
            tags ($key, $numeric, $text, …) and whether they are keys. Filter by a name search or a table; paged.
            """,
        toolset: "data_model",
        input: .object(
            "Arguments.",
            properties: [
                appID,
                ("search", .string("Case-insensitive text the field name must contain.", maxLength: 200)),
                ("table", .string("Only fields of this table.", maxLength: 200)),
                ("limit", .integer("Fields per page.", minimum: 1, maximum: 500, defaultValue: 100)),
                ("cursor", .string("next_cursor of the previous page.", maxLength: 200)),
            ], required: ["app_id"]),
        output: .object(
            "Fields.",
            properties: [
                (
                    "fields",
                    .array(
                        "The page of fields.",
                        items: .object(
                            "A field.",
                            properties: [
                                ("name", .string("Field name.")), ("tables", .array("Source tables.", items: .string("Table."), maxItems: 10_000)),
                                ("cardinality", count("Distinct values.")), ("tags", .array("Tags.", items: .string("Tag."), maxItems: 100)),
                                ("is_key", .boolean("Links tables.")),
                            ], required: ["name", "tables", "cardinality", "is_key"]), maxItems: 500)
                ),
                ("total", count("Fields matching the filters.")),
                ("next_cursor", .string("Cursor of the next page.")),
            ], required: ["fields", "total"])
    ) { arguments, context in
        try await context.backend.withDoc(arguments.required("app_id"), tag: context.sessionID) { doc, _ in
            let items = try await doc.sessionLayout(["qInfo": ["qType": "mcp-field-list"], "qFieldListDef": ["qShowSystem": false]])["qFieldList"]?["qItems"]?.arrayValue ?? []
            var fields = items.map { item -> JSONValue in
                let tags = item["qTags"]?.arrayValue ?? []
                return [
                    "name": item["qName"] ?? "", "tables": item["qSrcTables"] ?? [], "cardinality": item["qCardinal"] ?? 0,
                    "tags": .array(tags), "is_key": .bool(tags.contains("$key")),
                ]
            }
            if let search = arguments.string("search") {
                fields = fields.filter { ($0["name"]?.stringValue ?? "").localizedCaseInsensitiveContains(search) }
            }
            if let table = arguments.string("table") {
                fields = fields.filter { $0["tables"]?.arrayValue?.contains(.string(table)) ?? false }
                if fields.isEmpty {
                    let tables = Set(items.flatMap { ($0["qSrcTables"]?.arrayValue ?? []).compactMap(\.stringValue) })
                    if !tables.contains(table) { throw ToolError.notFound("table", table, candidates: Array(tables), listTool: "get_data_model") }
                }
            }
            let (page, next) = try Cursor.page(fields, cursor: arguments.string("cursor"), limit: arguments.int("limit") ?? 100)
            var structured: [String: JSONValue] = ["fields": .array(page), "total": .number(Double(fields.count))]
            if let next { structured["next_cursor"] = .string(next) }
            let text =
                TextTable.render(
                    headers: ["field", "tables", "distinct", "key"],
                    rows: page.map { field in
                        [
                            field["name"]?.stringValue ?? "", (field["tables"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ", "),
                            String(field["cardinality"]?.intValue ?? 0), field["is_key"] == true ? "yes" : "",
                        ]
                    }) + "\n\(fields.count) fields" + (next.map { "; more with cursor=\($0)" } ?? "")
            return ToolOutput(structured: .object(structured), text: text)
        }
    }
}
