import Foundation
import JSONCore
import QlikEngine

/// The value-level tools of the `data_model` toolset.
extension DataModelToolset {
    /// Most values read from one field (bounds work and memory per call).
    static let maxValuesScanned = 200_000

    /// All values of `field` with state and frequency, via a list object, read 10,000 at a time.
    static func fieldValues(_ field: String, doc: Doc) async throws -> (values: [JSONValue], truncated: Bool) {
        let list = try await doc.createSessionObject([
            "qInfo": ["qType": "mcp-field-values"],
            "qListObjectDef": ["qDef": ["qFieldDefs": [.string(bracketed(field))]], "qFrequencyMode": "V"],
        ])
        do {
            let result = try await readValues(of: list)
            _ = try? await doc.destroySessionObject(list.genericID)
            return result
        } catch {
            _ = try? await doc.destroySessionObject(list.genericID)
            throw error
        }
    }

    private static func readValues(of list: GenericObject) async throws -> (values: [JSONValue], truncated: Bool) {
        let size = try await list.layout()["qListObject"]?["qSize"]?["qcy"]?.intValue ?? 0
        var values: [JSONValue] = []
        var top = 0
        while top < min(size, maxValuesScanned) {
            let pages = try await list.listObjectData(pages: [.init(top: top, left: 0, width: 1, height: 10_000)])
            let matrix = pages.first?["qMatrix"]?.arrayValue ?? []
            if matrix.isEmpty { break }
            for row in matrix {
                guard let cell = row[0] else { continue }
                var value: [String: JSONValue] = ["text": cell["qText"] ?? "", "state": .string(stateName(cell["qState"]?.stringValue))]
                if let number = cell["qNum"]?.doubleValue { value["number"] = .number(number) }
                if let frequency = cell["qFrequency"]?.stringValue.flatMap(Int.init) { value["frequency"] = .number(Double(frequency)) }
                values.append(.object(value))
            }
            top += matrix.count
        }
        return (values, size > maxValuesScanned)
    }

    static func stateName(_ code: String?) -> String {
        switch code {
        case "S": return "selected"
        case "O": return "possible"
        case "A": return "alternative"
        case "X": return "excluded"
        case "L": return "locked"
        default: return code ?? "unknown"
        }
    }

    static let fieldValue = Schema.object(
        "A field value.",
        properties: [
            ("text", .string("The value as text.")), ("number", .number("The value as a number, when numeric.")),
            ("state", .string("selected, possible, alternative or excluded under the session's selections.")),
            ("frequency", count("Rows of the field's table holding the value.")),
        ], required: ["text", "state"])

    static let getFieldValues = QlikTool(
        name: "get_field_values",
        title: "Field values",
        description: """
            Returns a field's distinct values with how often each occurs and its selection state (selected, possible, \
            alternative, excluded) under this session's current selections. Filter with a case-insensitive search; paged.
            """,
        toolset: "data_model",
        input: .object(
            "Arguments.",
            properties: [
                appID, ("field", .string("Field name (see list_fields).", maxLength: 500)),
                ("search", .string("Case-insensitive text the value must contain.", maxLength: 200)),
                ("limit", .integer("Values per page.", minimum: 1, maximum: 1_000, defaultValue: 100)),
                ("cursor", .string("next_cursor of the previous page.", maxLength: 200)),
            ], required: ["app_id", "field"]),
        output: .object(
            "Values.",
            properties: [
                ("field", .string("The field.")), ("values", .array("The page of values.", items: fieldValue, maxItems: 1_000)),
                ("total", count("Values matching the search.")), ("next_cursor", .string("Cursor of the next page.")),
                ("truncated", .boolean("True when the field has more values than one call reads (200,000).")),
            ], required: ["field", "values", "total"])
    ) { arguments, context in
        let field = arguments.required("field")
        return try await context.backend.withDoc(arguments.required("app_id"), tag: context.sessionID) { doc, _ in
            try await requireField(field, in: doc, context)
            var (values, truncated) = try await fieldValues(field, doc: doc)
            if let search = arguments.string("search") {
                values = values.filter { ($0["text"]?.stringValue ?? "").localizedCaseInsensitiveContains(search) }
            }
            let (page, next) = try Cursor.page(values, cursor: arguments.string("cursor"), limit: arguments.int("limit") ?? 100)
            var structured: [String: JSONValue] = ["field": .string(field), "values": .array(page), "total": .number(Double(values.count))]
            if let next { structured["next_cursor"] = .string(next) }
            if truncated { structured["truncated"] = true }
            let text =
                TextTable.render(
                    headers: ["value", "frequency", "state"],
                    rows: page.map {
                        [$0["text"]?.stringValue ?? "", String($0["frequency"]?.intValue ?? 0), $0["state"]?.stringValue ?? ""]
                    }) + "\n\(values.count) values" + (next.map { "; more with cursor=\($0)" } ?? "")
            return ToolOutput(structured: .object(structured), text: text)
        }
    }

    static let getFieldStatistics = QlikTool(
        name: "get_field_statistics",
        title: "Field statistics",
        description: """
            Profiles a field under the session's selections: number of values, distinct values, nulls, numeric \
            minimum/maximum/average when the field is numeric, and the ten most frequent values. Useful for data-quality checks.
            """,
        toolset: "data_model",
        input: .object(
            "Arguments.", properties: [appID, ("field", .string("Field name (see list_fields).", maxLength: 500))],
            required: ["app_id", "field"]),
        output: .object(
            "Statistics.",
            properties: [
                ("field", .string("The field.")), ("count", count("Non-null values over the field's rows.")),
                ("distinct", count("Distinct values.")), ("nulls", count("Rows without a value.")),
                ("numeric", .boolean("Whether every value is numeric.")),
                ("min", .number("Smallest number.")), ("max", .number("Largest number.")), ("avg", .number("Average.")),
                ("top_values", .array("Most frequent values.", items: fieldValue, maxItems: 10)),
            ], required: ["field", "count", "distinct", "nulls", "numeric", "top_values"])
    ) { arguments, context in
        let field = arguments.required("field")
        return try await context.backend.withDoc(arguments.required("app_id"), tag: context.sessionID) { doc, _ in
            let (tables, _) = try await doc.tablesAndKeys()
            let entries = tables.flatMap { ($0["qFields"]?.arrayValue ?? []).filter { $0["qName"]?.stringValue == field } }
            guard !entries.isEmpty else {
                throw ToolError.notFound("field", field, candidates: try await fieldNames(doc, context), listTool: "list_fields")
            }
            let nulls = entries.reduce(0) { $0 + ($1["qnRows"]?.intValue ?? 0) - ($1["qnNonNulls"]?.intValue ?? 0) }
            let description = try await doc.fieldDescription(field)
            let numeric = description["qIsNumeric"]?.boolValue ?? false
            let reference = bracketed(field)
            var structured: [String: JSONValue] = [
                "field": .string(field), "numeric": .bool(numeric), "nulls": .number(Double(max(0, nulls))),
                "count": .number(try await doc.evaluateEx("Count(\(reference))").number ?? 0),
                "distinct": .number(try await doc.evaluateEx("Count(DISTINCT \(reference))").number ?? 0),
            ]
            if numeric {
                for (key, function) in [("min", "Min"), ("max", "Max"), ("avg", "Avg")] {
                    if let value = try await doc.evaluateEx("\(function)(\(reference))").number { structured[key] = .number(value) }
                }
            }
            let (values, _) = try await fieldValues(field, doc: doc)
            let top = values.sorted { ($0["frequency"]?.intValue ?? 0) > ($1["frequency"]?.intValue ?? 0) }.prefix(10)
            structured["top_values"] = .array(Array(top))
            var text = "\(field): \(structured["count"]?.intValue ?? 0) values, \(structured["distinct"]?.intValue ?? 0) distinct, \(nulls) nulls"
            if numeric {
                text +=
                    "; min \(structured["min"]?.doubleValue.map { "\($0)" } ?? "-"), max \(structured["max"]?.doubleValue.map { "\($0)" } ?? "-"), avg \(structured["avg"]?.doubleValue.map { "\($0)" } ?? "-")"
            }
            text += "\ntop values: " + top.map { "\($0["text"]?.stringValue ?? "") (\($0["frequency"]?.intValue ?? 0))" }.joined(separator: ", ")
            return ToolOutput(structured: .object(structured), text: text)
        }
    }

    static let previewTable = QlikTool(
        name: "preview_table",
        title: "Preview a table",
        description: "Returns the first rows of a table of the data model (as loaded, ignoring selections), to see what its records look like.",
        toolset: "data_model",
        input: .object(
            "Arguments.",
            properties: [
                appID, ("table", .string("Table name (see get_data_model).", maxLength: 500)),
                ("rows", .integer("Rows to return.", minimum: 1, maximum: 100, defaultValue: 10)),
            ], required: ["app_id", "table"]),
        output: .object(
            "Rows.",
            properties: [
                ("table", .string("The table.")), ("columns", .array("Field names.", items: .string("Field."), maxItems: 10_000)),
                ("rows", .array("Rows, one array of cell texts per row.", items: .array("A row.", items: .string("Cell."), maxItems: 10_000), maxItems: 100)),
            ], required: ["table", "columns", "rows"])
    ) { arguments, context in
        let table = arguments.required("table")
        return try await context.backend.withDoc(arguments.required("app_id"), tag: context.sessionID) { doc, _ in
            let (tables, _) = try await doc.tablesAndKeys()
            let names = tables.compactMap { $0["qName"]?.stringValue }
            guard names.contains(table) else { throw ToolError.notFound("table", table, candidates: names, listTool: "get_data_model") }
            let data = try await doc.tableData(table, rows: arguments.int("rows") ?? 10)
            let columns = (data.first ?? []).compactMap { $0["qText"]?.stringValue }
            let rows = data.dropFirst().map { $0.map { $0["qText"]?.stringValue ?? "" } }
            return ToolOutput(
                structured: [
                    "table": .string(table), "columns": .array(columns.map { .string($0) }),
                    "rows": .array(rows.map { .array($0.map { .string($0) }) }),
                ],
                text: TextTable.render(headers: columns, rows: Array(rows)))
        }
    }

    static let searchValues = QlikTool(
        name: "search_values",
        title: "Search values",
        description: """
            Finds which fields contain values matching a text (case-insensitive substring), e.g. to learn that \
            'Europe' is a value of Region before filtering on it. Searches the given fields, or every field.
            """,
        toolset: "data_model",
        input: .object(
            "Arguments.",
            properties: [
                appID, ("text", .string("Text to look for.", maxLength: 200)),
                ("fields", .array("Fields to search (default: all).", items: .string("Field.", maxLength: 500), maxItems: 100)),
                ("limit", .integer("Most matches returned.", minimum: 1, maximum: 500, defaultValue: 50)),
            ], required: ["app_id", "text"]),
        output: .object(
            "Matches.",
            properties: [
                (
                    "matches",
                    .array(
                        "Matching values.",
                        items: .object(
                            "A match.",
                            properties: [
                                ("field", .string("Field.")), ("value", .string("Value.")), ("frequency", count("Rows holding it.")),
                            ], required: ["field", "value"]), maxItems: 500)
                ),
                ("truncated", .boolean("True when there were more matches than the limit.")),
            ], required: ["matches", "truncated"])
    ) { arguments, context in
        let text = arguments.required("text")
        guard !text.trimmingCharacters(in: .whitespaces).isEmpty else { throw ArgumentError(field: "text", message: "must not be empty") }
        let limit = arguments.int("limit") ?? 50
        return try await context.backend.withDoc(arguments.required("app_id"), tag: context.sessionID) { doc, _ in
            let all = try await fieldNames(doc, context)
            let fields = arguments.array("fields")?.compactMap(\.stringValue) ?? all
            for field in fields where !all.contains(field) {
                throw ToolError.notFound("field", field, candidates: all, listTool: "list_fields")
            }
            var matches: [JSONValue] = []
            var truncated = false
            search: for field in fields {
                for value in try await fieldValues(field, doc: doc).values where (value["text"]?.stringValue ?? "").localizedCaseInsensitiveContains(text) {
                    guard matches.count < limit else { truncated = true; break search }
                    matches.append(["field": .string(field), "value": value["text"] ?? "", "frequency": value["frequency"] ?? 0])
                }
            }
            return ToolOutput(
                structured: ["matches": .array(matches), "truncated": .bool(truncated)],
                text: TextTable.render(
                    headers: ["field", "value", "frequency"],
                    rows: matches.map {
                        [$0["field"]?.stringValue ?? "", $0["value"]?.stringValue ?? "", String($0["frequency"]?.intValue ?? 0)]
                    }) + (truncated ? "\nmore matches exist; narrow the search or raise limit" : ""))
        }
    }
}
