import Foundation
import JSONCore
import QlikEngine

/// Selection tools: they act on the MCP session's own selection state, which persists across its
/// calls and is never shared with another session.
enum SelectionTools {
    static let selectionsOutput = Schema.object(
        "The session's selections.",
        properties: [
            ("selections", .array("Fields with selections.", items: AnalyticsSupport.selectionItem, maxItems: 1_000))
        ], required: ["selections"])

    static func render(_ selections: [JSONValue]) -> String {
        selections.isEmpty
            ? "no selections"
            : selections.map { item in
                let values = (item["values"]?.arrayValue ?? []).compactMap(\.stringValue)
                return "\(item["field"]?.stringValue ?? ""): \(values.prefix(10).joined(separator: ", "))\(values.count > 10 ? " … (\(values.count))" : "")"
            }.joined(separator: "\n")
    }

    static let selectValues = QlikTool(
        name: "select_values",
        title: "Select values",
        description: """
            Selects values in a field for this session — like clicking them in Qlik. Later calls of this session \
            (query_data, evaluate_expression, get_field_values, …) see only the associated data until cleared. \
            Replaces the field's previous selection unless toggle is true.
            """,
        toolset: "analytics",
        input: .object(
            "Arguments.",
            properties: [
                AnalyticsToolset.appID, ("field", .string("Field name.", maxLength: 500)),
                ("values", .array("Values to select (text, or numbers for numeric fields).", items: .any("A value."), maxItems: 1_000)),
                ("toggle", .boolean("Add to / remove from the current selection instead of replacing it.", defaultValue: false)),
            ], required: ["app_id", "field", "values"]),
        output: selectionsOutput, readOnly: true, idempotent: true
    ) { arguments, context in
        let field = arguments.required("field")
        let values = arguments.array("values") ?? []
        return try await context.backend.withDoc(arguments.required("app_id"), tag: context.sessionID) { doc, _ in
            try await DataModelToolset.requireField(field, in: doc, context)
            let wanted: [Field.Value] = try values.enumerated().map { index, value in
                if let text = value.stringValue { return .text(text) }
                if let number = value.doubleValue { return .number(number) }
                throw ArgumentError(field: "values[\(index)]", message: "must be a string or a number")
            }
            guard !wanted.isEmpty else { throw ArgumentError(field: "values", message: "give at least one value (use clear_selections to clear)") }
            guard try await doc.field(field).selectValues(wanted, toggle: arguments.bool("toggle") ?? false) else {
                throw ToolError(
                    code: "VALUES_NOT_FOUND", category: .notFound, message: "none of the values exist in '\(field)'",
                    remediation: "check the values with get_field_values or search_values")
            }
            let selections = try await AnalyticsSupport.selections(doc)
            return ToolOutput(structured: ["selections": .array(selections)], text: render(selections))
        }
    }

    static let clearSelections = QlikTool(
        name: "clear_selections",
        title: "Clear selections",
        description: "Clears this session's selections in one field, or in every field when no field is given.",
        toolset: "analytics",
        input: .object(
            "Arguments.", properties: [AnalyticsToolset.appID, ("field", .string("Field to clear (default: all).", maxLength: 500))],
            required: ["app_id"]),
        output: selectionsOutput
    ) { arguments, context in
        try await context.backend.withDoc(arguments.required("app_id"), tag: context.sessionID) { doc, _ in
            if let field = arguments.string("field") {
                try await DataModelToolset.requireField(field, in: doc, context)
                try await doc.field(field).clear()
            } else {
                try await doc.clearAll()
            }
            let selections = try await AnalyticsSupport.selections(doc)
            return ToolOutput(structured: ["selections": .array(selections)], text: render(selections))
        }
    }

    static let getCurrentSelections = QlikTool(
        name: "get_current_selections",
        title: "Current selections",
        description: "Shows this session's current selections: each field with a selection and its selected values.",
        toolset: "analytics",
        input: .object("Arguments.", properties: [AnalyticsToolset.appID], required: ["app_id"]),
        output: selectionsOutput
    ) { arguments, context in
        try await context.backend.withDoc(arguments.required("app_id"), tag: context.sessionID) { doc, _ in
            let selections = try await AnalyticsSupport.selections(doc)
            return ToolOutput(structured: ["selections": .array(selections)], text: render(selections))
        }
    }
}
