import Foundation
import JSONCore
import QlikEngine

/// The `governance` toolset: load script, variables, lineage, connections and field usage.
/// (Reload tasks and history arrive with the reload backends; see README "Status".)
enum GovernanceToolset {
    static let toolset = Toolset(
        name: "governance",
        description: "Load script, variables, data lineage, connections, where a field is used (impact analysis), reload tasks and history, and reloading an app.",
        tools: [
            getScript, listVariables, getVariable, getLineage, listConnections, FieldUsageTool.tool,
            ReloadTools.listReloadTasks, ReloadTools.getReloadHistory, ReloadTools.reloadApp,
        ])

    static let appID = DataModelToolset.appID
    static let maxScriptCharacters = 200_000

    /// Script sections (`///$tab Name`), in order, with their text.
    static func sections(_ script: String) -> [(name: String, text: String)] {
        var result: [(String, [Substring])] = []
        for line in script.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("///$tab ") {
                result.append((String(line.dropFirst(8)).trimmingCharacters(in: .whitespaces), []))
            } else if result.isEmpty {
                result.append(("Main", [line]))
            } else {
                result[result.count - 1].1.append(line)
            }
        }
        return result.map { ($0.0, $0.1.joined(separator: "\n").trimmingCharacters(in: .newlines)) }
    }

    static let getScript = QlikTool(
        name: "get_script",
        title: "Load script",
        description: "Returns the app's load script — how its data is loaded and transformed — whole or one section (tab), with the list of sections.",
        toolset: "governance",
        input: .object("Arguments.", properties: [appID, ("section", .string("Only this section (tab name).", maxLength: 500))], required: ["app_id"]),
        output: .object(
            "The script.",
            properties: [
                ("sections", .array("Section names in order.", items: .string("Section."), maxItems: 1_000)),
                ("script", .string("The script or the section.")),
                ("truncated", .boolean("True when the script was cut at 200,000 characters.")),
            ], required: ["sections", "script", "truncated"])
    ) { arguments, context in
        try await context.backend.withDoc(arguments.required("app_id"), tag: context.sessionID) { doc, _ in
            let script = try await doc.script()
            let parts = sections(script)
            var text = script
            if let section = arguments.string("section") {
                guard let part = parts.first(where: { $0.name.caseInsensitiveCompare(section) == .orderedSame }) else {
                    throw ToolError.notFound("section", section, candidates: parts.map(\.name), listTool: "get_script without a section")
                }
                text = part.text
            }
            let truncated = text.count > maxScriptCharacters
            if truncated { text = String(text.prefix(maxScriptCharacters)) }
            return ToolOutput(
                structured: ["sections": .array(parts.map { .string($0.name) }), "script": .string(text), "truncated": .bool(truncated)],
                text: "sections: \(parts.map(\.name).joined(separator: ", "))\n\n\(text)" + (truncated ? "\n[truncated at \(maxScriptCharacters) characters]" : ""))
        }
    }

    static func variableItems(_ doc: Doc) async throws -> [JSONValue] {
        try await doc.sessionLayout([
            "qInfo": ["qType": "mcp-variables"],
            "qVariableListDef": [
                "qType": "variable", "qShowReserved": false, "qShowConfig": false,
                "qData": ["tags": "/tags"],
            ],
        ])["qVariableList"]?["qItems"]?.arrayValue ?? []
    }

    static let listVariables = QlikTool(
        name: "list_variables",
        title: "List variables",
        description: "Lists the app's variables with their definitions and comments. Variables hold reusable values and expression fragments used as $(name).",
        toolset: "governance",
        input: .object("Arguments.", properties: [appID, ("search", .string("Case-insensitive text in the name.", maxLength: 200))], required: ["app_id"]),
        output: .object(
            "Variables.",
            properties: [
                (
                    "variables",
                    .array(
                        "Variables.",
                        items: .object(
                            "A variable.",
                            properties: [
                                ("id", .string("Variable id.")), ("name", .string("Name.")), ("definition", .string("Definition.")), ("comment", .string("Comment.")),
                            ], required: ["name", "definition"]), maxItems: 10_000)
                )
            ], required: ["variables"])
    ) { arguments, context in
        try await context.backend.withDoc(arguments.required("app_id"), tag: context.sessionID) { doc, _ in
            var variables: [JSONValue] = try await variableItems(doc).map {
                ["id": $0["qInfo"]?["qId"] ?? "", "name": $0["qName"] ?? "", "definition": $0["qDefinition"] ?? "", "comment": $0["qDescription"] ?? ""]
            }
            if let search = arguments.string("search") {
                variables = variables.filter { ($0["name"]?.stringValue ?? "").localizedCaseInsensitiveContains(search) }
            }
            return ToolOutput(
                structured: ["variables": .array(variables)],
                text: TextTable.render(
                    headers: ["name", "definition", "comment"],
                    rows: variables.map {
                        [$0["name"]?.stringValue ?? "", $0["definition"]?.stringValue ?? "", $0["comment"]?.stringValue ?? ""]
                    }))
        }
    }

    static let getVariable = QlikTool(
        name: "get_variable",
        title: "Describe a variable",
        description: "Returns a variable's definition and its evaluated value under the session's selections (a definition holding an expression is evaluated as $(name) would be).",
        toolset: "governance",
        input: .object("Arguments.", properties: [appID, ("name", .string("Variable name.", maxLength: 500))], required: ["app_id", "name"]),
        output: .object(
            "The variable.",
            properties: [
                ("name", .string("Name.")), ("definition", .string("Definition.")), ("comment", .string("Comment.")),
                ("value_text", .string("Evaluated value as text.")), ("value_number", .number("Evaluated value as a number.")),
                ("evaluation_error", .string("Why the definition could not be evaluated.")),
            ], required: ["name", "definition"])
    ) { arguments, context in
        let name = arguments.required("name")
        return try await context.backend.withDoc(arguments.required("app_id"), tag: context.sessionID) { doc, _ in
            let items = try await variableItems(doc)
            guard let item = items.first(where: { $0["qName"]?.stringValue == name }) else {
                throw ToolError.notFound("variable", name, candidates: items.compactMap { $0["qName"]?.stringValue }, listTool: "list_variables")
            }
            let definition = item["qDefinition"]?.stringValue ?? ""
            var structured: [String: JSONValue] = ["name": .string(name), "definition": .string(definition), "comment": item["qDescription"] ?? ""]
            do {
                let value = try await doc.evaluateEx("$(\(name))")
                structured["value_text"] = .string(value.text)
                if let number = value.number { structured["value_number"] = .number(number) }
            } catch let error as QIXError {
                structured["evaluation_error"] = .string(error.message)
            }
            return ToolOutput(
                structured: .object(structured),
                text: "\(name) = \(definition)" + (structured["value_text"]?.stringValue.map { "\nvalue: \($0)" } ?? "")
                    + (structured["evaluation_error"]?.stringValue.map { "\nnot evaluable: \($0)" } ?? ""))
        }
    }

    static let getLineage = QlikTool(
        name: "get_lineage",
        title: "Data lineage",
        description: "Lists the data sources the app was loaded from (files, databases, connections) with the statements used — where the numbers come from.",
        toolset: "governance",
        input: .object("Arguments.", properties: [appID], required: ["app_id"]),
        output: .object(
            "Lineage.",
            properties: [
                (
                    "sources",
                    .array(
                        "Sources.",
                        items: .object(
                            "A source.",
                            properties: [
                                ("source", .string("File, connection or resident table.")), ("statement", .string("Statement, e.g. SQL SELECT.")),
                            ], required: ["source"]), maxItems: 10_000)
                )
            ], required: ["sources"])
    ) { arguments, context in
        try await context.backend.withDoc(arguments.required("app_id"), tag: context.sessionID) { doc, _ in
            let sources: [JSONValue] = try await doc.lineage().map { ["source": $0["qDiscriminator"] ?? "", "statement": $0["qStatement"] ?? ""] }
            return ToolOutput(
                structured: ["sources": .array(sources)],
                text: TextTable.render(
                    headers: ["source", "statement"],
                    rows: sources.map {
                        [$0["source"]?.stringValue ?? "", $0["statement"]?.stringValue ?? ""]
                    }, maxCellWidth: 120))
        }
    }

    static let listConnections = QlikTool(
        name: "list_connections",
        title: "Data connections",
        description: "Lists the app's data connections (name, type, connection string with credentials removed).",
        toolset: "governance",
        input: .object("Arguments.", properties: [appID], required: ["app_id"]),
        output: .object(
            "Connections.",
            properties: [
                (
                    "connections",
                    .array(
                        "Connections.",
                        items: .object(
                            "A connection.",
                            properties: [
                                ("id", .string("Id.")), ("name", .string("Name.")), ("type", .string("Type.")), ("connection_string", .string("Connection string (credentials redacted).")),
                            ], required: ["name", "type"]), maxItems: 10_000)
                )
            ], required: ["connections"])
    ) { arguments, context in
        try await context.backend.withDoc(arguments.required("app_id"), tag: context.sessionID) { doc, _ in
            let connections: [JSONValue] = try await doc.connections().map {
                [
                    "id": $0["qId"] ?? "", "name": $0["qName"] ?? "", "type": $0["qType"] ?? "",
                    "connection_string": .string(redactCredentials($0["qConnectionString"]?.stringValue ?? "")),
                ]
            }
            return ToolOutput(
                structured: ["connections": .array(connections)],
                text: TextTable.render(
                    headers: ["name", "type", "connection string"],
                    rows: connections.map {
                        [$0["name"]?.stringValue ?? "", $0["type"]?.stringValue ?? "", $0["connection_string"]?.stringValue ?? ""]
                    }, maxCellWidth: 100))
        }
    }

    /// Removes `password=`, `pwd=`, `user id=`-style credentials from a connection string.
    static func redactCredentials(_ text: String) -> String {
        guard let regex = try? NSRegularExpression(pattern: #"(?i)\b(password|pwd|secret|token|user\s*id|uid|user)\s*=\s*[^;]*"#) else { return text }
        return regex.stringByReplacingMatches(in: text, range: NSRange(text.startIndex..., in: text), withTemplate: "$1=[REDACTED]")
    }
}

/// Exposes the connection-string redaction for tests.
public enum GovernanceRedactionProbe {
    public static func redact(_ text: String) -> String { GovernanceToolset.redactCredentials(text) }
}
