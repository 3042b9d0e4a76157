import Foundation
import JSONCore
import QlikEngine

/// Shared pieces of the analytics tools: master-item lookup, filters, selections.
enum AnalyticsSupport {
    /// Master items of a kind (`measure` or `dimension`) from a list session object.
    static func masterItems(_ kind: String, doc: Doc) async throws -> [JSONValue] {
        let key = kind == "measure" ? "qMeasureList" : "qDimensionList"
        let data: JSONValue =
            kind == "measure"
            ? [
                "title": "/qMetaDef/title", "description": "/qMetaDef/description", "tags": "/qMetaDef/tags",
                "expression": "/qMeasure/qDef", "label": "/qMeasure/qLabel",
            ]
            : [
                "title": "/qMetaDef/title", "description": "/qMetaDef/description", "tags": "/qMetaDef/tags",
                "grouping": "/qDim/qGrouping", "info": "/qDimInfos",
            ]
        var properties: [String: JSONValue] = ["qInfo": ["qType": .string("mcp-\(kind)-list")]]
        properties["\(key)Def"] = ["qType": .string(kind), "qData": data]
        return try await doc.sessionLayout(.object(properties))[key]?["qItems"]?.arrayValue ?? []
    }

    /// Resolves a master item by id or (case-insensitive) title; not_found with a suggestion otherwise.
    static func resolveMaster(_ reference: String, kind: String, items: [JSONValue], listTool: String) throws -> JSONValue {
        if let byID = items.first(where: { $0["qInfo"]?["qId"]?.stringValue == reference }) { return byID }
        if let byTitle = items.first(where: { ($0["qMeta"]?["title"]?.stringValue ?? $0["qData"]?["title"]?.stringValue)?.caseInsensitiveCompare(reference) == .orderedSame }) {
            return byTitle
        }
        let candidates = items.compactMap { $0["qInfo"]?["qId"]?.stringValue } + items.compactMap { $0["qMeta"]?["title"]?.stringValue }
        throw ToolError.notFound(kind, reference, candidates: candidates, listTool: listTool)
    }

    /// Applies `filters` (field → values) as selections in the lease's session.
    static func applyFilters(_ filters: [String: JSONValue], doc: Doc, context: ToolContext) async throws {
        guard !filters.isEmpty else { return }
        let (fields, lookup) = try await DataModelToolset.fieldLookup(doc, context)
        for (field, values) in filters.sorted(by: { $0.key < $1.key }) {
            guard lookup.contains(field) else { throw ToolError.notFound("field", field, candidates: fields, listTool: "list_fields") }
            guard let list = values.arrayValue, !list.isEmpty, list.count <= 1_000 else {
                throw ArgumentError(field: "filters.\(field)", message: "must be a non-empty array of at most 1,000 values")
            }
            let wanted: [Field.Value] = try list.enumerated().map { index, value in
                if let text = value.stringValue { return .text(text) }
                if let number = value.doubleValue { return .number(number) }
                throw ArgumentError(field: "filters.\(field)[\(index)]", message: "must be a string or a number")
            }
            guard try await doc.field(field).selectValues(wanted) else {
                throw ToolError(
                    code: "FILTER_MATCHES_NOTHING", category: .invalidArgument,
                    message: "none of the values given for '\(field)' exist", remediation: "check the values with get_field_values or search_values")
            }
        }
    }

    /// Runs `body` with `filters` applied in a one-off session of the caller, so the session's own
    /// selections are untouched; the one-off session is cleared afterwards.
    static func withFilters<T: Sendable>(
        _ filters: [String: JSONValue]?, appID: String, context: ToolContext,
        _ body: @Sendable @escaping (Doc) async throws -> T
    ) async throws -> T {
        guard let filters, !filters.isEmpty else {
            return try await context.backend.withDoc(appID, tag: context.sessionID) { doc, _ in try await body(doc) }
        }
        return try await context.backend.withDoc(appID, tag: context.sessionID + "#one-off") { doc, _ in
            try await doc.clearAll()
            do {
                try await applyFilters(filters, doc: doc, context: context)
                let result = try await body(doc)
                try await doc.clearAll()
                return result
            } catch {
                try? await doc.clearAll()
                throw error
            }
        }
    }

    /// The current selections of the session.
    static func selections(_ doc: Doc) async throws -> [JSONValue] {
        let items = try await doc.sessionLayout(["qInfo": ["qType": "mcp-selections"], "qSelectionObjectDef": [:]])["qSelectionObject"]?["qSelections"]?.arrayValue ?? []
        return items.map { item in
            [
                "field": item["qField"] ?? "", "selected_count": item["qSelectedCount"] ?? 0,
                "values": .array((item["qSelectedFieldSelectionInfo"]?.arrayValue ?? []).compactMap { $0["qName"] }),
            ]
        }
    }

    static let filtersSchema = Schema.object(
        "One-off filters: field name → values to select for this call only (the session's selections are not changed).",
        properties: [], additional: true)

    static let selectionItem = Schema.object(
        "A field with a selection.",
        properties: [
            ("field", .string("Field.")), ("selected_count", .integer("Selected values.", minimum: 0, maximum: Int.max)),
            ("values", .array("Selected values (up to 1,000).", items: .string("Value."), maxItems: 1_000)),
        ], required: ["field", "selected_count", "values"])
}
