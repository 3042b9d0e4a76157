import Foundation

/// Offset cursors for paged tool results: opaque to the model, validated on the way back in.
enum Cursor {
    static func encode(offset: Int) -> String {
        Data("o:\(offset)".utf8).base64EncodedString()
    }

    static func decode(_ cursor: String?) throws -> Int {
        guard let cursor, !cursor.isEmpty else { return 0 }
        guard let data = Data(base64Encoded: cursor), let text = String(data: data, encoding: .utf8),
            text.hasPrefix("o:"), let offset = Int(text.dropFirst(2)), offset >= 0
        else {
            throw ArgumentError(field: "cursor", message: "is not a cursor returned by this tool; omit it to start from the first page")
        }
        return offset
    }

    /// The page of `items` at `cursor` and the cursor of the next page (nil at the end).
    static func page<T>(_ items: [T], cursor: String?, limit: Int) throws -> (page: [T], next: String?) {
        let offset = try decode(cursor)
        guard offset < items.count else { return ([], nil) }
        let end = min(items.count, offset + limit)
        return (Array(items[offset..<end]), end < items.count ? encode(offset: end) : nil)
    }
}
