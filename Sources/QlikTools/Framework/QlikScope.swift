/// The OAuth scopes (and API-key scopes) that gate qlik-mcp's tools.
public enum QlikScope: String, CaseIterable, Codable, Sendable, Comparable {
    /// Metadata: apps, data models, measures, sheets, scripts, lineage.
    case read = "qlik:read"
    /// Values and expressions: query_data, evaluate_expression, selections.
    case data = "qlik:data"
    /// Reloads and other writes.
    case write = "qlik:write"
    /// Tasks and server administration.
    case admin = "qlik:admin"

    public static func < (lhs: QlikScope, rhs: QlikScope) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }

    /// Parses a comma- or space-separated list; names the first unknown scope.
    public static func parseList(_ text: String) throws(ScopeListError) -> Set<QlikScope> {
        var scopes = Set<QlikScope>()
        for item in text.split(whereSeparator: { $0 == "," || $0 == " " }) where !item.isEmpty {
            guard let scope = QlikScope(rawValue: String(item)) else {
                throw ScopeListError(message: "unknown scope '\(item)'; use \(allCases.map(\.rawValue).joined(separator: ", "))")
            }
            scopes.insert(scope)
        }
        guard !scopes.isEmpty else { throw ScopeListError(message: "give at least one scope: \(allCases.map(\.rawValue).joined(separator: ", "))") }
        return scopes
    }
}

/// A scope list that could not be parsed, with what to write instead.
public struct ScopeListError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { message }
}

/// The scope each tool needs. One explicit table, so a new tool without an entry fails a test
/// instead of silently getting a default.
public enum ToolScopes {
    static let table: [String: QlikScope] = {
        var table: [String: QlikScope] = [:]
        for name in [
            "list_apps", "get_app", "list_streams", "get_engine_info", "get_data_model", "list_fields", "list_measures",
            "get_measure", "list_dimensions", "get_dimension", "check_expression", "list_sheets", "get_sheet", "get_object",
            "list_bookmarks", "get_script", "list_variables", "get_variable", "get_lineage", "list_connections",
            "find_field_usage", "get_reload_history", "list_toolsets", "get_toolset_tools", "enable_toolset",
        ] {
            table[name] = .read
        }
        for name in [
            "get_field_values", "get_field_statistics", "preview_table", "search_values", "evaluate_expression", "query_data",
            "select_values", "clear_selections", "get_current_selections", "get_object_data", "apply_bookmark",
        ] {
            table[name] = .data
        }
        table["reload_app"] = .write
        table["list_reload_tasks"] = .admin
        for name in ["flush_cache", "list_dead_letters", "retry_dead_letter", "drop_dead_letter"] { table[name] = .admin }
        return table
    }()

    /// The scope `tool` needs, or nil for a name that is not a qlik-mcp tool.
    public static func required(for tool: String) -> QlikScope? { table[tool] }
}
