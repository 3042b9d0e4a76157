import JSONCore
import QlikEngine

extension QlikBackend {
    /// The session's current selections in `appID` as canonical text (equal selections give equal
    /// text), for cache keys of answers that depend on them. Nil when the engine lists a field's
    /// selected values only in part (more than it reports): such a state cannot be told apart from
    /// another, so answers under it are not cached.
    public func selectionState(appID: String, tag: String) async throws -> String? {
        try await withDoc(appID, tag: tag) { doc, _ in
            let layout = try await Self.selectionLayout(doc)
            var fields: [JSONValue] = []
            for item in layout["qSelectionObject"]?["qSelections"]?.arrayValue ?? [] {
                let values = item["qSelectedFieldSelectionInfo"]?.arrayValue ?? []
                guard let count = item["qSelectedCount"]?.intValue, count == values.count else { return nil }
                fields.append([
                    "field": item["qField"] ?? .null, "locked": item["qLocked"] ?? false,
                    "values": .array(values.map { ["name": $0["qName"] ?? .null, "mode": $0["qFieldSelectionMode"] ?? .null] }),
                ])
            }
            return JSONCoding.serializeCanonical(.array(fields.sorted { ($0["field"]?.stringValue ?? "") < ($1["field"]?.stringValue ?? "") }))
        }
    }

    static let selectionObjectKey = "qlik-mcp.selection-state"

    /// The layout of a current-selections object kept open on the pooled connection (one per
    /// connection, for its lifetime: one `GetLayout` per call instead of create, read, destroy).
    static func selectionLayout(_ doc: Doc) async throws -> JSONValue {
        let connection = doc.connection
        if let handle = connection.memo(selectionObjectKey), !connection.isClosed(handle: handle) {
            do {
                return try await GenericObject(connection: connection, handle: handle, genericID: "").layout()
            } catch is QIXError {
                connection.remember(selectionObjectKey, handle: nil)  // the engine dropped it: make a new one
            }
        }
        let object = try await doc.createSessionObject(["qInfo": ["qType": "mcp-selection-state"], "qSelectionObjectDef": [:]])
        connection.remember(selectionObjectKey, handle: object.handle)
        return try await object.layout()
    }
}
