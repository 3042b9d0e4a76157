/// One table of an app: named columns of values, stored as per-column symbol tables
/// (distinct values) plus a symbol index per row — the layout Qlik itself uses.
public struct DataTable: Sendable {
    public let name: String
    public let fieldNames: [String]
    /// `columns[c][row]` is the index of the row's value in `symbols[c]`.
    let columns: [[Int32]]
    /// Distinct values of each column, in load order.
    let symbols: [[FieldValue]]
    public let rowCount: Int

    /// Builds a table from rows of values (each row has one value per field).
    public init(name: String, fields: [String], rows: [[FieldValue]]) {
        self.name = name
        self.fieldNames = fields
        self.rowCount = rows.count
        var columns = Array(repeating: [Int32](), count: fields.count)
        var symbols = Array(repeating: [FieldValue](), count: fields.count)
        var lookup = Array(repeating: [FieldValue: Int32](), count: fields.count)
        for column in 0..<fields.count { columns[column].reserveCapacity(rows.count) }
        for row in rows {
            precondition(row.count == fields.count, "row width does not match the fields of \(name)")
            for (column, value) in row.enumerated() {
                if let index = lookup[column][value] {
                    columns[column].append(index)
                } else {
                    let index = Int32(symbols[column].count)
                    symbols[column].append(value)
                    lookup[column][value] = index
                    columns[column].append(index)
                }
            }
        }
        self.columns = columns
        self.symbols = symbols
    }

    public func columnIndex(of field: String) -> Int? {
        fieldNames.firstIndex(of: field)
    }

    /// The value of `field` in `row`.
    public func value(row: Int, column: Int) -> FieldValue {
        symbols[column][Int(columns[column][row])]
    }
}
