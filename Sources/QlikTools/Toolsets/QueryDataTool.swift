import Foundation
import JSONCore
import QlikEngine

/// `query_data`: a table of dimensions × measures, the workhorse of analysis.
enum QueryDataTool {
    static let maxRows = 1_000

    static let tool = QlikTool(
        name: "query_data",
        title: "Query data",
        description: """
            Aggregates data into a table: group by dimensions (field names or master dimension ids) and compute measures \
            (Qlik expressions such as Sum(Sales), or master measure ids). Optional one-off filters (field → values), sorting \
            by any column, and paging (limit + cursor). Returns the rows and the totals over all rows.
            """,
        toolset: "analytics",
        input: .object(
            "Arguments.",
            properties: [
                AnalyticsToolset.appID,
                ("dimensions", .array("Field names or master dimension ids to group by.", items: .string("Dimension.", maxLength: 500), maxItems: 5)),
                ("measures", .array("Expressions or master measure ids.", items: .string("Measure.", maxLength: 10_000), maxItems: 10)),
                ("filters", AnalyticsSupport.filtersSchema),
                (
                    "sort",
                    .array(
                        "Sort order, first key first.",
                        items: .object(
                            "A sort key.",
                            properties: [
                                ("column", .string("A dimension or measure as given above.", maxLength: 10_000)),
                                ("descending", .boolean("Largest first.", defaultValue: false)),
                            ], required: ["column"]), maxItems: 15)
                ),
                ("limit", .integer("Rows per page.", minimum: 1, maximum: maxRows, defaultValue: 100)),
                ("cursor", .string("next_cursor of the previous page.", maxLength: 200)),
            ], required: ["app_id"]),
        output: .object(
            "The table.",
            properties: [
                ("columns", .array("Column titles: dimensions, then measures.", items: .string("Title."), maxItems: 15)),
                ("rows", .array("Rows; dimension cells are text, measure cells numbers (or text/null).", items: .array("A row.", items: .any("A cell."), maxItems: 15), maxItems: maxRows)),
                ("totals", .array("Each measure over all rows.", items: .any("A total."), maxItems: 10)),
                ("total_rows", .integer("Rows in the whole result.", minimum: 0, maximum: Int.max)),
                ("next_cursor", .string("Cursor of the next page.")),
            ], required: ["columns", "rows", "totals", "total_rows"])
    ) { arguments, context in
        let dimensions = (arguments.array("dimensions") ?? []).compactMap(\.stringValue)
        let measures = (arguments.array("measures") ?? []).compactMap(\.stringValue)
        guard !dimensions.isEmpty || !measures.isEmpty else {
            throw ArgumentError(field: "dimensions", message: "give at least one dimension or measure")
        }
        let offset = try Cursor.decode(arguments.string("cursor"))
        let limit = arguments.int("limit") ?? 100
        let sort = (arguments.array("sort") ?? []).map { ($0["column"]?.stringValue ?? "", $0["descending"]?.boolValue ?? false) }
        return try await AnalyticsSupport.withFilters(arguments.object("filters"), appID: arguments.required("app_id"), context: context) { doc in
            try await run(doc: doc, context: context, dimensions: dimensions, measures: measures, sort: sort, offset: offset, limit: limit)
        }
    }

    static func run(doc: Doc, context: ToolContext, dimensions: [String], measures: [String], sort: [(String, Bool)], offset: Int, limit: Int) async throws -> ToolOutput {
        let (fields, lookup) = try await DataModelToolset.fieldLookup(doc, context)
        // Master items are listed only when a name may refer to one (each list is a session object).
        let masterDimensions = dimensions.allSatisfy(lookup.contains) ? [] : try await AnalyticsSupport.masterItems("dimension", doc: doc)
        let masterMeasures = measures.contains(where: mayBeItemID) ? try await AnalyticsSupport.masterItems("measure", doc: doc) : []
        let dimensionDefs: [JSONValue] = try dimensions.map { name in
            if lookup.contains(name) { return ["qDef": ["qFieldDefs": [.string(DataModelToolset.bracketed(name))], "qFieldLabels": [.string(name)]]] }
            if masterDimensions.contains(where: { $0["qInfo"]?["qId"]?.stringValue == name }) { return ["qLibraryId": .string(name)] }
            throw ToolError.notFound(
                "dimension", name, candidates: fields + masterDimensions.compactMap { $0["qInfo"]?["qId"]?.stringValue },
                listTool: "list_fields or list_dimensions")
        }
        let measureDefs: [JSONValue] = measures.map { text in
            if masterMeasures.contains(where: { $0["qInfo"]?["qId"]?.stringValue == text }) { return ["qLibraryId": .string(text), "qSortBy": ["qSortByNumeric": -1]] }
            return ["qDef": ["qDef": .string(text), "qLabel": .string(text)], "qSortBy": ["qSortByNumeric": -1]]
        }
        // Sort: named columns first in the given direction, the rest afterwards in their default order.
        let names = dimensions + measures
        var order: [Int] = []
        var dimensionSorts = dimensionDefs
        var measureSorts = measureDefs
        for (column, descending) in sort {
            guard let index = names.firstIndex(of: column) else {
                throw ArgumentError(field: "sort", message: "'\(column)' is not one of the dimensions or measures")
            }
            order.append(index)
            if index < dimensions.count, case .object(var def) = dimensionSorts[index] {
                var inner = def["qDef"]?.objectValue ?? [:]
                inner["qSortCriterias"] = [["qSortByNumeric": .number(descending ? -1 : 1), "qSortByAscii": .number(descending ? -1 : 1)]]
                def["qDef"] = .object(inner)
                dimensionSorts[index] = .object(def)
            } else if index >= dimensions.count, case .object(var def) = measureSorts[index - dimensions.count] {
                def["qSortBy"] = ["qSortByNumeric": .number(descending ? -1 : 1)]
                measureSorts[index - dimensions.count] = .object(def)
            }
        }
        order += names.indices.filter { !order.contains($0) }
        // The requested page comes with the layout (qInitialDataFetch), so the cube is computed once.
        let pageHeight = min(limit, 10_000 / max(1, names.count))
        let cube = try await doc.createSessionObject([
            "qInfo": ["qType": "mcp-query"],
            "qHyperCubeDef": [
                "qDimensions": .array(dimensionSorts), "qMeasures": .array(measureSorts),
                "qInterColumnSortOrder": .array(order.map { .number(Double($0)) }), "qSuppressZero": false,
                "qInitialDataFetch": [
                    [
                        "qTop": .number(Double(offset)), "qLeft": 0,
                        "qWidth": .number(Double(names.count)), "qHeight": .number(Double(pageHeight)),
                    ]
                ],
            ],
        ])
        do {
            let layout = try await cube.layout()
            let result = try await read(cube: cube, layout: layout, width: names.count, dimensionCount: dimensions.count, offset: offset, limit: limit)
            try await doc.destroySessionObject(cube.genericID)
            return result
        } catch {
            _ = try? await doc.destroySessionObject(cube.genericID)
            throw error
        }
    }

    /// Whether a measure text may be a master measure id rather than an expression: ids are one
    /// token (letters, digits, `_`, `-`); an expression such as `Sum(Sales)` never is.
    static func mayBeItemID(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 200 && text.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }
    }

    static func read(cube: GenericObject, layout: JSONValue, width: Int, dimensionCount: Int, offset: Int, limit: Int) async throws -> ToolOutput {
        let hyperCube = layout["qHyperCube"]
        let totalRows = hyperCube?["qSize"]?["qcy"]?.intValue ?? 0
        let titles = ((hyperCube?["qDimensionInfo"]?.arrayValue ?? []) + (hyperCube?["qMeasureInfo"]?.arrayValue ?? []))
            .map { $0["qFallbackTitle"]?.stringValue ?? "" }
        var rows: [[JSONValue]] = []
        if offset < totalRows {
            let height = min(limit, totalRows - offset, 10_000 / max(1, width))
            // Use the page delivered with the layout when it covers the request; fetch otherwise.
            var matrix: [JSONValue]?
            if let initial = hyperCube?["qDataPages"]?[0], initial["qArea"]?["qTop"]?.intValue == offset,
                initial["qArea"]?["qWidth"]?.intValue == width, let delivered = initial["qMatrix"]?.arrayValue,
                delivered.count >= height || offset + delivered.count == totalRows
            {
                matrix = Array(delivered.prefix(height))
            }
            if matrix == nil {
                let pages = try await cube.hyperCubeData(pages: [.init(top: offset, left: 0, width: width, height: height)])
                matrix = pages.first?["qMatrix"]?.arrayValue ?? []
            }
            rows = (matrix ?? []).map { row in
                (row.arrayValue ?? []).enumerated().map { index, cell in cellValue(cell, isDimension: index < dimensionCount) }
            }
        }
        let totals = (hyperCube?["qGrandTotalRow"]?.arrayValue ?? []).map { cellValue($0, isDimension: false) }
        let end = offset + rows.count
        var structured: [String: JSONValue] = [
            "columns": .array(titles.map { .string($0) }), "rows": .array(rows.map { .array($0) }),
            "totals": .array(totals), "total_rows": .number(Double(totalRows)),
        ]
        if end < totalRows { structured["next_cursor"] = .string(Cursor.encode(offset: end)) }
        let textRows = rows.map { $0.map(display) }
        var text = TextTable.render(headers: titles, rows: textRows)
        if !totals.isEmpty {
            text += "\ntotals: " + zip(titles.dropFirst(dimensionCount), totals).map { "\($0) = \(display($1))" }.joined(separator: ", ")
        }
        text += "\nrows \(offset + 1)–\(end) of \(totalRows)" + (end < totalRows ? "; more with cursor=\(Cursor.encode(offset: end))" : "")
        return ToolOutput(structured: .object(structured), text: text)
    }

    static func cellValue(_ cell: JSONValue, isDimension: Bool) -> JSONValue {
        if cell["qIsNull"] == true { return .null }
        if !isDimension, let number = cell["qNum"]?.doubleValue { return .number(number) }
        return cell["qText"] ?? .null
    }

    static func display(_ value: JSONValue) -> String {
        switch value {
        case .null: return "-"
        case .number(let n): return n.rounded() == n && abs(n) < 1e15 ? String(Int64(n)) : String(format: "%.2f", n)
        case .string(let s): return s
        default: return JSONCoding.serialize(value)
        }
    }
}
