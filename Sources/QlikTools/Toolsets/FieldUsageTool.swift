import Foundation
import JSONCore
import QlikEngine

/// `find_field_usage`: where a field is used — master items, objects, variables, script.
enum FieldUsageTool {
    /// True when `text` mentions `field` as a whole word or in brackets.
    static func mentions(_ text: String, field: String) -> Bool {
        if text.contains("[\(field)]") { return true }
        let escaped = NSRegularExpression.escapedPattern(for: field)
        return text.range(of: #"(?<![\w.$])"# + escaped + #"(?![\w])"#, options: .regularExpression) != nil
    }

    static let tool = QlikTool(
        name: "find_field_usage",
        title: "Where is a field used",
        description: """
            Impact analysis for a field: lists the master measures and dimensions, sheet objects, variables and script \
            sections that use it, so you know what breaks if it changes.
            """,
        toolset: "governance",
        input: .object("Arguments.", properties: [GovernanceToolset.appID, ("field", .string("Field name.", maxLength: 500))], required: ["app_id", "field"]),
        output: .object(
            "Usages.",
            properties: [
                ("field", .string("The field.")),
                (
                    "usages",
                    .array(
                        "Where the field is used.",
                        items: .object(
                            "A usage.",
                            properties: [
                                ("kind", .string("measure, dimension, object, variable or script.")), ("id", .string("Item id or section name.")),
                                ("title", .string("Title.")), ("detail", .string("The definition that mentions the field.")),
                            ], required: ["kind", "id"]), maxItems: 10_000)
                ),
            ], required: ["field", "usages"])
    ) { arguments, context in
        let field = arguments.required("field")
        return try await context.backend.withDoc(arguments.required("app_id"), tag: context.sessionID) { doc, _ in
            try await DataModelToolset.requireField(field, in: doc, context)
            var usages: [JSONValue] = []
            for item in try await AnalyticsSupport.masterItems("measure", doc: doc) {
                let expression = item["qData"]?["expression"]?.stringValue ?? ""
                if mentions(expression, field: field) {
                    usages.append(["kind": "measure", "id": item["qInfo"]?["qId"] ?? "", "title": item["qMeta"]?["title"] ?? "", "detail": .string(expression)])
                }
            }
            for item in try await AnalyticsSupport.masterItems("dimension", doc: doc) {
                let fields = (item["qData"]?["info"]?.arrayValue ?? []).compactMap { $0["qName"]?.stringValue }
                if fields.contains(field) {
                    usages.append(["kind": "dimension", "id": item["qInfo"]?["qId"] ?? "", "title": item["qMeta"]?["title"] ?? "", "detail": .string(fields.joined(separator: ", "))])
                }
            }
            for info in try await doc.allInfos() where !["sheet", "measure", "dimension", "bookmark"].contains(info["qType"]?.stringValue ?? "") {
                guard let id = info["qId"]?.stringValue, let object = try? await doc.object(id) else { continue }
                let cube = try await object.properties()["qHyperCubeDef"]
                let dims = (cube?["qDimensions"]?.arrayValue ?? []).compactMap { $0["qDef"]?["qFieldDefs"]?[0]?.stringValue }
                let exprs = (cube?["qMeasures"]?.arrayValue ?? []).compactMap { $0["qDef"]?["qDef"]?.stringValue }
                let hits = dims.filter { $0 == field || $0 == "[\(field)]" } + exprs.filter { mentions($0, field: field) }
                if !hits.isEmpty {
                    usages.append(["kind": "object", "id": .string(id), "title": try await object.properties()["title"] ?? "", "detail": .string(hits.joined(separator: "; "))])
                }
            }
            for variable in try await GovernanceToolset.variableItems(doc) {
                let definition = variable["qDefinition"]?.stringValue ?? ""
                if mentions(definition, field: field) {
                    usages.append(["kind": "variable", "id": variable["qName"] ?? "", "title": variable["qName"] ?? "", "detail": .string(definition)])
                }
            }
            for section in GovernanceToolset.sections(try await doc.script()) {
                let lines = section.text.split(separator: "\n").filter { mentions(String($0), field: field) }
                if !lines.isEmpty {
                    usages.append([
                        "kind": "script", "id": .string(section.name), "title": .string(section.name),
                        "detail": .string(lines.prefix(5).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " | ")),
                    ])
                }
            }
            return ToolOutput(
                structured: ["field": .string(field), "usages": .array(usages)],
                text: usages.isEmpty
                    ? "'\(field)' is not used by any master item, object, variable or script line"
                    : TextTable.render(
                        headers: ["kind", "id", "detail"],
                        rows: usages.map {
                            [$0["kind"]?.stringValue ?? "", $0["id"]?.stringValue ?? "", $0["detail"]?.stringValue ?? ""]
                        }, maxCellWidth: 100))
        }
    }
}
