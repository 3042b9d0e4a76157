import MCP

/// MCP prompts: conversation starters that tell the assistant which tools to use for a task.
public enum PromptCatalog {
    public static let prompts: [Prompt] = [
        Prompt(
            name: "explore_app", title: "Explore an app",
            description: "Get to know a Qlik app: its data model, master items, sheets and key numbers.",
            arguments: [.init(name: "app_id", description: "App id from list_apps.", required: true)]),
        Prompt(
            name: "explain_measure", title: "Explain a measure",
            description: "Explain what a master measure computes, where it is used, and its current value.",
            arguments: [
                .init(name: "app_id", description: "App id.", required: true),
                .init(name: "measure", description: "Master measure id or title.", required: true),
            ]),
        Prompt(
            name: "data_quality_report", title: "Data-quality report",
            description: "Profile a table's fields: nulls, cardinality, suspicious values, keys.",
            arguments: [
                .init(name: "app_id", description: "App id.", required: true),
                .init(name: "table", description: "Table name (see get_data_model).", required: true),
            ]),
    ]

    /// The messages of `name` with `arguments` filled in; missing or unknown names are argument errors.
    public static func get(_ name: String, arguments: [String: String]) throws -> GetPrompt.Result {
        guard let prompt = prompts.first(where: { $0.name == name }) else {
            throw ArgumentError(field: "name", message: "unknown prompt '\(name)'; prompts: \(prompts.map(\.name).joined(separator: ", "))")
        }
        for argument in prompt.arguments ?? [] where argument.required == true {
            guard let value = arguments[argument.name], !value.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw ArgumentError(field: argument.name, message: "is required by the prompt \(name)")
            }
            guard value.count <= 500 else { throw ArgumentError(field: argument.name, message: "is longer than 500 characters") }
        }
        let app = arguments["app_id"] ?? ""
        let text: String
        switch name {
        case "explore_app":
            text = """
                Explore the Qlik app "\(app)". Call get_app for its size and freshness, get_data_model for its tables and keys \
                (flag synthetic keys), list_measures and list_dimensions for the governed definitions, and list_sheets for what \
                its dashboards show. Then evaluate two or three of the most important master measures with evaluate_expression \
                and summarise: what the app is about, its main tables, its key measures with their values, and anything odd.
                """
        case "explain_measure":
            let measure = arguments["measure"] ?? ""
            text = """
                Explain the master measure "\(measure)" of the Qlik app "\(app)". Call get_measure for its expression, description \
                and the objects that use it; check_expression to confirm it is valid; evaluate_expression for its current value; \
                and query_data with one or two relevant master dimensions to show how it breaks down. Explain in plain language \
                what it computes, which fields it depends on (find_field_usage if needed) and any pitfalls.
                """
        default:
            let table = arguments["table"] ?? ""
            text = """
                Write a data-quality report for the table "\(table)" of the Qlik app "\(app)". Call get_data_model to see its fields \
                and keys, preview_table for sample rows, and get_field_statistics for each field (nulls, distinct values, numeric \
                range, top values). Report fields with nulls, constant or near-constant fields, keys that do not link, outliers and \
                suspicious values, each with the evidence.
                """
        }
        return GetPrompt.Result(description: prompt.description, messages: [.user(.text(text: text))])
    }
}
