import JSONCore

/// How long answers of a kind of tool may be reused, and what they depend on.
public enum CacheClass: String, Sendable, CaseIterable, Codable {
    /// App list, app properties, data model, fields, script, sheets, objects, lineage: changes
    /// with a reload or an edit of the app. Long TTL.
    case metadata
    /// Master measures and dimensions, variables' definitions, bookmarks: edited more often.
    /// Medium TTL.
    case masterItems = "master_items"
    /// Values: hypercubes, evaluations, field values. Depends on the selections. Short TTL.
    case data
    /// Never cached: side effects (selections, reloads, writes), or answers that must be live.
    case never
}

/// The cache policy of one tool.
public struct CachePolicy: Sendable, Equatable {
    public let cacheClass: CacheClass
    /// The answer depends on the session's current selections (their fingerprint is in the key).
    public let selectionDependent: Bool
    /// A successful call changes the app (reload, writes): its cached answers are dropped.
    public let invalidatesApp: Bool

    public init(_ cacheClass: CacheClass, selectionDependent: Bool = false, invalidatesApp: Bool = false) {
        self.cacheClass = cacheClass
        self.selectionDependent = selectionDependent
        self.invalidatesApp = invalidatesApp
    }

    /// True when the call's answer depends on the session's selections: `selectionDependent`
    /// tools, except when the call brings its own one-off `filters` (those run in a scratch engine
    /// session that is cleared first, so the session's selections play no part).
    public func dependsOnSelections(_ arguments: ToolArguments) -> Bool {
        guard selectionDependent else { return false }
        if let filters = arguments.object("filters"), !filters.isEmpty { return false }
        return true
    }
}

/// The cache policy of each tool. One explicit table (like `ToolScopes`), so a new tool without
/// an entry fails a test instead of silently being cached.
public enum ToolCachePolicies {
    static let table: [String: CachePolicy] = {
        var table: [String: CachePolicy] = [:]
        for name in [
            "list_apps", "get_app", "list_streams", "get_data_model", "list_fields", "check_expression",
            "list_sheets", "get_sheet", "get_object", "get_script", "get_lineage", "list_connections", "find_field_usage",
        ] {
            table[name] = CachePolicy(.metadata)
        }
        for name in ["list_measures", "get_measure", "list_dimensions", "get_dimension", "list_variables", "list_bookmarks"] {
            table[name] = CachePolicy(.masterItems)
        }
        for name in [
            "get_field_values", "get_field_statistics", "preview_table", "search_values", "evaluate_expression", "query_data",
            "get_object_data", "get_variable",
        ] {
            table[name] = CachePolicy(.data, selectionDependent: true)
        }
        // Selections are session state (and get_current_selections is that state); reload tasks
        // and history answer "is it fresh?", and get_engine_info reports the engine's health and
        // pool: all must be live.
        for name in [
            "get_engine_info",
            "select_values", "clear_selections", "get_current_selections", "apply_bookmark", "list_reload_tasks", "get_reload_history",
            "list_toolsets", "get_toolset_tools", "enable_toolset", "flush_cache", "list_dead_letters", "retry_dead_letter", "drop_dead_letter",
        ] {
            table[name] = CachePolicy(.never)
        }
        table["reload_app"] = CachePolicy(.never, invalidatesApp: true)
        return table
    }()

    /// The policy of `tool` (its canonical name); `never` for a name without an entry.
    public static func policy(for tool: String) -> CachePolicy { table[tool] ?? CachePolicy(.never) }

    /// Whether `tool` has an entry (the tests check every shipped tool does).
    public static func hasEntry(_ tool: String) -> Bool { table[tool] != nil }
}
