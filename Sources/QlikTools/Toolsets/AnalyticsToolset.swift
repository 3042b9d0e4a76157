import Foundation
import JSONCore
import QlikEngine

/// The `analytics` toolset: master items, expressions, queries and the session's selections.
enum AnalyticsToolset {
    static let toolset = Toolset(
        name: "analytics",
        description: "Master measures and dimensions, evaluating and checking expressions, querying data, and selections.",
        tools: [
            listMeasures, getMeasure, listDimensions, getDimension, evaluateExpression, checkExpression,
            QueryDataTool.tool, SelectionTools.selectValues, SelectionTools.clearSelections, SelectionTools.getCurrentSelections,
        ])

    static let appID = DataModelToolset.appID

    static let measureItem = Schema.object(
        "A master measure.",
        properties: [
            ("id", .string("Measure id.")), ("title", .string("Title.")), ("description", .string("Description.")),
            ("expression", .string("Qlik expression.")), ("label", .string("Label.")),
            ("tags", .array("Tags.", items: .string("Tag."), maxItems: 100)),
        ], required: ["id", "title", "expression"])

    static let dimensionItem = Schema.object(
        "A master dimension.",
        properties: [
            ("id", .string("Dimension id.")), ("title", .string("Title.")), ("description", .string("Description.")),
            ("fields", .array("Fields it groups by.", items: .string("Field."), maxItems: 100)),
            ("tags", .array("Tags.", items: .string("Tag."), maxItems: 100)),
        ], required: ["id", "title", "fields"])

    static func measureJSON(_ item: JSONValue) -> JSONValue {
        [
            "id": item["qInfo"]?["qId"] ?? "", "title": item["qMeta"]?["title"] ?? item["qData"]?["title"] ?? "",
            "description": item["qMeta"]?["description"] ?? item["qData"]?["description"] ?? "",
            "expression": item["qData"]?["expression"] ?? "", "label": item["qData"]?["label"] ?? "",
            "tags": item["qMeta"]?["tags"] ?? item["qData"]?["tags"] ?? [],
        ]
    }

    static func dimensionJSON(_ item: JSONValue) -> JSONValue {
        let fields = (item["qData"]?["info"]?.arrayValue ?? []).compactMap { $0["qName"] }
        return [
            "id": item["qInfo"]?["qId"] ?? "", "title": item["qMeta"]?["title"] ?? item["qData"]?["title"] ?? "",
            "description": item["qMeta"]?["description"] ?? item["qData"]?["description"] ?? "",
            "fields": .array(fields), "tags": item["qMeta"]?["tags"] ?? item["qData"]?["tags"] ?? [],
        ]
    }

    static func listTool(
        kind: String, name: String, item: Schema, render: @escaping @Sendable (JSONValue) -> JSONValue,
        columns: [String], cells: @escaping @Sendable (JSONValue) -> [String]
    ) -> QlikTool {
        QlikTool(
            name: name,
            title: "List master \(kind)s",
            description: """
                Lists the app's master \(kind)s — the governed, reusable definitions — with id, title, description, \
                \(kind == "measure" ? "expression" : "fields") and tags. Prefer them over ad-hoc definitions in query_data. \
                Filter by a search in title/description or by a tag; paged.
                """,
            toolset: "analytics",
            input: .object(
                "Arguments.",
                properties: [
                    appID, ("search", .string("Case-insensitive text in the title or description.", maxLength: 200)),
                    ("tag", .string("Only items with this tag.", maxLength: 200)),
                    ("limit", .integer("Items per page.", minimum: 1, maximum: 500, defaultValue: 100)),
                    ("cursor", .string("next_cursor of the previous page.", maxLength: 200)),
                ], required: ["app_id"]),
            output: .object(
                "Items.",
                properties: [
                    ("items", .array("The page of items.", items: item, maxItems: 500)),
                    ("total", .integer("Items matching the filters.", minimum: 0, maximum: Int.max)),
                    ("next_cursor", .string("Cursor of the next page.")),
                ], required: ["items", "total"])
        ) { arguments, context in
            try await context.backend.withDoc(arguments.required("app_id"), tag: context.sessionID) { doc, _ in
                var items = try await AnalyticsSupport.masterItems(kind, doc: doc).map(render)
                if let search = arguments.string("search") {
                    items = items.filter {
                        ($0["title"]?.stringValue ?? "").localizedCaseInsensitiveContains(search)
                            || ($0["description"]?.stringValue ?? "").localizedCaseInsensitiveContains(search)
                    }
                }
                if let tag = arguments.string("tag") { items = items.filter { $0["tags"]?.arrayValue?.contains(.string(tag)) ?? false } }
                items.sort { ($0["title"]?.stringValue ?? "") < ($1["title"]?.stringValue ?? "") }
                let (page, next) = try Cursor.page(items, cursor: arguments.string("cursor"), limit: arguments.int("limit") ?? 100)
                var structured: [String: JSONValue] = ["items": .array(page), "total": .number(Double(items.count))]
                if let next { structured["next_cursor"] = .string(next) }
                return ToolOutput(
                    structured: .object(structured),
                    text: TextTable.render(headers: columns, rows: page.map(cells)) + "\n\(items.count) \(kind)s")
            }
        }
    }

    static let listMeasures = listTool(
        kind: "measure", name: "list_measures", item: measureItem, render: measureJSON,
        columns: ["id", "title", "expression"]
    ) {
        [$0["id"]?.stringValue ?? "", $0["title"]?.stringValue ?? "", $0["expression"]?.stringValue ?? ""]
    }

    static let listDimensions = listTool(
        kind: "dimension", name: "list_dimensions", item: dimensionItem, render: dimensionJSON,
        columns: ["id", "title", "fields"]
    ) {
        [$0["id"]?.stringValue ?? "", $0["title"]?.stringValue ?? "", ($0["fields"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ", ")]
    }

    static func getTool(kind: String, name: String, item: Schema, render: @escaping @Sendable (JSONValue) -> JSONValue) -> QlikTool {
        QlikTool(
            name: name,
            title: "Describe a master \(kind)",
            description: "Returns one master \(kind) by id or title: its definition, description, tags, and the sheets' objects that use it (for impact analysis).",
            toolset: "analytics",
            input: .object(
                "Arguments.", properties: [appID, ("\(kind)", .string("\(kind.capitalized) id or title (see list_\(kind)s).", maxLength: 500))],
                required: ["app_id", kind]),
            output: .object(
                "The \(kind).",
                properties: [
                    (kind, item),
                    (
                        "used_by",
                        .array(
                            "Objects that use it.",
                            items: .object(
                                "An object.",
                                properties: [
                                    ("id", .string("Object id.")), ("type", .string("Object type.")),
                                ], required: ["id", "type"]), maxItems: 10_000)
                    ),
                ], required: [kind, "used_by"])
        ) { arguments, context in
            try await context.backend.withDoc(arguments.required("app_id"), tag: context.sessionID) { doc, _ in
                let items = try await AnalyticsSupport.masterItems(kind, doc: doc)
                let found = try AnalyticsSupport.resolveMaster(arguments.required(kind), kind: kind, items: items, listTool: "list_\(kind)s")
                let id = found["qInfo"]?["qId"]?.stringValue ?? ""
                let linked = kind == "measure" ? try await doc.measure(id).linkedObjects() : try await doc.dimension(id).linkedObjects()
                let usedBy: [JSONValue] = linked.map { ["id": $0["qInfo"]?["qId"] ?? "", "type": $0["qInfo"]?["qType"] ?? ""] }
                let rendered = render(found)
                let definition =
                    kind == "measure"
                    ? rendered["expression"]?.stringValue ?? ""
                    : (rendered["fields"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ", ")
                let text = """
                    \(rendered["title"]?.stringValue ?? "") (\(id)): \(definition)
                    \(rendered["description"]?.stringValue ?? "")
                    used by: \(usedBy.isEmpty ? "no objects" : usedBy.compactMap { $0["id"]?.stringValue }.joined(separator: ", "))
                    """
                return ToolOutput(structured: [kind: rendered, "used_by": .array(usedBy)], text: text)
            }
        }
    }

    static let getMeasure = getTool(kind: "measure", name: "get_measure", item: measureItem, render: measureJSON)
    static let getDimension = getTool(kind: "dimension", name: "get_dimension", item: dimensionItem, render: dimensionJSON)

    static let evaluateExpression = QlikTool(
        name: "evaluate_expression",
        title: "Evaluate an expression",
        description: """
            Evaluates one Qlik expression over the whole app (no dimensions) — e.g. Sum(Sales) or \
            Count(DISTINCT CustomerID) — under this session's selections, or under one-off filters that do not change them.
            """,
        toolset: "analytics",
        input: .object(
            "Arguments.",
            properties: [
                appID, ("expression", .string("Qlik expression, e.g. Sum(Sales).", maxLength: 10_000)),
                ("filters", AnalyticsSupport.filtersSchema),
            ], required: ["app_id", "expression"]),
        output: .object(
            "The value.",
            properties: [
                ("expression", .string("The expression.")), ("text", .string("Formatted value.")),
                ("number", .number("Numeric value, when numeric.")),
            ], required: ["expression", "text"])
    ) { arguments, context in
        let expression = arguments.required("expression")
        let value = try await AnalyticsSupport.withFilters(arguments.object("filters"), appID: arguments.required("app_id"), context: context) { doc in
            try await doc.evaluateEx(expression)
        }
        var structured: [String: JSONValue] = ["expression": .string(expression), "text": .string(value.text)]
        if let number = value.number { structured["number"] = .number(number) }
        return ToolOutput(structured: .object(structured), text: "\(expression) = \(value.text)")
    }

    static let checkExpression = QlikTool(
        name: "check_expression",
        title: "Check an expression",
        description: "Checks a Qlik expression's syntax and field names without evaluating it; reports the error and the unknown fields, with suggestions.",
        toolset: "analytics",
        input: .object(
            "Arguments.", properties: [appID, ("expression", .string("Qlik expression.", maxLength: 10_000))],
            required: ["app_id", "expression"]),
        output: .object(
            "The check.",
            properties: [
                ("valid", .boolean("True when the expression is fine.")), ("error", .string("The engine's message.")),
                (
                    "unknown_fields",
                    .array(
                        "Field names that do not exist.",
                        items: .object(
                            "An unknown field.",
                            properties: [
                                ("name", .string("As written.")), ("suggestion", .string("A field with a similar name.")),
                            ], required: ["name"]), maxItems: 100)
                ),
            ], required: ["valid", "unknown_fields"])
    ) { arguments, context in
        let expression = arguments.required("expression")
        return try await context.backend.withDoc(arguments.required("app_id"), tag: context.sessionID) { doc, _ in
            let check = try await doc.checkExpression(expression)
            let fields = try await DataModelToolset.fieldNames(doc, context)
            let characters = Array(expression)
            let unknown: [JSONValue] = check.badFields.map { bad in
                let start = min(max(0, bad.from), characters.count)
                let end = min(characters.count, start + max(0, bad.count))
                let name = String(characters[start..<end])
                var item: [String: JSONValue] = ["name": .string(name)]
                if let suggestion = Suggestions.closest(to: name, in: fields) { item["suggestion"] = .string(suggestion) }
                return .object(item)
            }
            var structured: [String: JSONValue] = ["valid": .bool(check.error.isEmpty), "unknown_fields": .array(unknown)]
            if !check.error.isEmpty { structured["error"] = .string(check.error) }
            let text =
                check.error.isEmpty
                ? "\(expression) is valid"
                : "\(check.error)" + unknown.compactMap { item in item["suggestion"]?.stringValue.map { "; '\(item["name"]?.stringValue ?? "")' → did you mean '\($0)'?" } }.joined()
            return ToolOutput(structured: .object(structured), text: text)
        }
    }
}
