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
    public static func parseList(_ text: String) throws(APIKeyError) -> Set<QlikScope> {
        var scopes = Set<QlikScope>()
        for item in text.split(whereSeparator: { $0 == "," || $0 == " " }) where !item.isEmpty {
            guard let scope = QlikScope(rawValue: String(item)) else {
                throw .invalidInput("unknown scope '\(item)'; use \(allCases.map(\.rawValue).joined(separator: ", "))")
            }
            scopes.insert(scope)
        }
        guard !scopes.isEmpty else { throw .invalidInput("give at least one scope: \(allCases.map(\.rawValue).joined(separator: ", "))") }
        return scopes
    }
}
