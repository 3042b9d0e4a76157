/// The associative data model of one app: tables linked by fields with the same name.
///
/// Built once when an app loads and immutable afterwards. Besides the tables it holds, per table,
/// every field reachable through *many-to-one* links (a key that is unique in the table it leads to),
/// resolved to a value symbol per row. That is what lets a hypercube group fact rows by a dimension
/// that lives in another table, and aggregate each field at its own grain, as Qlik does.
public final class DataModel: Sendable {
    /// A field of the model: where it lives and its distinct values across all tables.
    public struct Field: Sendable {
        public let name: String
        public let index: Int
        /// (table, column) of every table that has the field; more than one makes it a key.
        public let locations: [(table: Int, column: Int)]
        /// Distinct values across all tables (global symbols).
        public let values: [FieldValue]
        /// Per location: local symbol → global symbol.
        let localToGlobal: [[Int32]]
        /// The table whose rows the field describes: where it is unique if it is a key, else its only table.
        public let homeTable: Int
        /// `numbers[symbol]`: the value's number, NaN when it has none (for the aggregation fast path).
        public let numbers: [Double]
        /// Lower-cased text → symbols, and number → symbols: exact-match lookups without scans.
        let textIndex: [String: [Int32]]
        let numberIndex: [Double: [Int32]]
        public var isKey: Bool { locations.count > 1 }

        /// Symbols whose text equals `text`, ignoring case.
        public func symbols(matchingText text: String) -> [Int32] { textIndex[text.lowercased()] ?? [] }

        /// Symbols whose number equals `number`.
        public func symbols(matchingNumber number: Double) -> [Int32] { numberIndex[number] ?? [] }
        public var isNumeric: Bool { values.allSatisfy { $0.number != nil } }
    }

    public let tables: [DataTable]
    public let fields: [Field]
    private let fieldIndex: [String: Int]
    /// `reachable[t][f]`: global symbol of field f for each row of table t (-1 = no associated row),
    /// for every field reachable from t through many-to-one links.
    let reachable: [[Int: [Int32]]]
    /// `rowLinks[t][u]`: the row of table u associated with each row of table t (-1 = none).
    let rowLinks: [[Int: [Int32]]]

    public init(tables: [DataTable]) {
        self.tables = tables
        // Fields and their global symbol tables.
        var order: [String] = []
        var locations: [String: [(Int, Int)]] = [:]
        for (t, table) in tables.enumerated() {
            for (c, name) in table.fieldNames.enumerated() {
                if locations[name] == nil { order.append(name) }
                locations[name, default: []].append((t, c))
            }
        }
        var fields: [Field] = []
        for (index, name) in order.enumerated() {
            var values: [FieldValue] = []
            var lookup: [FieldValue: Int32] = [:]
            var maps: [[Int32]] = []
            var unique: [Bool] = []
            for (t, c) in locations[name]! {
                let table = tables[t]
                maps.append(
                    table.symbols[c].map { value in
                        if let existing = lookup[value] { return existing }
                        let symbol = Int32(values.count)
                        values.append(value)
                        lookup[value] = symbol
                        return symbol
                    })
                unique.append(table.symbols[c].count == table.rowCount)
            }
            let locs = locations[name]!
            let home = locs.count > 1 ? (locs.indices.first(where: { unique[$0] }).map { locs[$0].0 } ?? locs[0].0) : locs[0].0
            var textIndex: [String: [Int32]] = [:]
            var numberIndex: [Double: [Int32]] = [:]
            for (symbol, value) in values.enumerated() {
                textIndex[value.text.lowercased(), default: []].append(Int32(symbol))
                if let number = value.number { numberIndex[number, default: []].append(Int32(symbol)) }
            }
            fields.append(
                Field(
                    name: name, index: index, locations: locs, values: values, localToGlobal: maps, homeTable: home,
                    numbers: values.map { $0.number ?? Double($0.text) ?? .nan }, textIndex: textIndex, numberIndex: numberIndex))
        }
        self.fields = fields
        self.fieldIndex = Dictionary(uniqueKeysWithValues: fields.map { ($0.name, $0.index) })
        (self.reachable, self.rowLinks) = Self.resolveLinks(tables: tables, fields: fields)
    }

    public func field(named name: String) -> Field? {
        fieldIndex[name].map { fields[$0] }
    }

    public var totalRows: Int { tables.reduce(0) { $0 + $1.rowCount } }

    /// Tables reachable from `table` through many-to-one links (including itself).
    public func manyToOneReach(from table: Int) -> Set<Int> { Set(rowLinks[table].keys) }

    /// Global symbol of `field` per row of `table`, when the field is reachable from it.
    func symbols(of field: Int, inRowsOf table: Int) -> [Int32]? { reachable[table][field] }

    private static func resolveLinks(tables: [DataTable], fields: [Field]) -> ([[Int: [Int32]]], [[Int: [Int32]]]) {
        // For each key field and each table where it is unique: global symbol → row.
        var uniqueIndex: [Int: [Int: [Int32]]] = [:]  // field → table → (symbol → row)
        for field in fields where field.isKey {
            for (position, location) in field.locations.enumerated() {
                let table = tables[location.table]
                guard table.symbols[location.column].count == table.rowCount else { continue }
                var index = [Int32](repeating: -1, count: field.values.count)
                for row in 0..<table.rowCount {
                    index[Int(field.localToGlobal[position][Int(table.columns[location.column][row])])] = Int32(row)
                }
                uniqueIndex[field.index, default: [:]][location.table] = index
            }
        }
        var reachable: [[Int: [Int32]]] = []
        var rowLinks: [[Int: [Int32]]] = []
        for (t, table) in tables.enumerated() {
            var links: [Int: [Int32]] = [t: (0..<table.rowCount).map { Int32($0) }]
            var queue = [t]
            while !queue.isEmpty {
                let a = queue.removeFirst()
                let rowsOfA = links[a]!
                for field in fields where field.isKey {
                    guard let position = field.locations.firstIndex(where: { $0.table == a }) else { continue }
                    let column = field.locations[position].column
                    for (b, index) in uniqueIndex[field.index] ?? [:] where links[b] == nil {
                        links[b] = rowsOfA.map { aRow in
                            guard aRow >= 0 else { return -1 }
                            let symbol = field.localToGlobal[position][Int(tables[a].columns[column][Int(aRow)])]
                            return index[Int(symbol)]
                        }
                        queue.append(b)
                    }
                }
            }
            var fieldSymbols: [Int: [Int32]] = [:]
            for field in fields {
                guard
                    let (position, location) = field.locations.enumerated().first(where: { links[$0.element.table] != nil })
                        .map({ ($0.offset, $0.element) })
                else { continue }
                let rows = links[location.table]!
                let column = tables[location.table].columns[location.column]
                let map = field.localToGlobal[position]
                fieldSymbols[field.index] = rows.map { $0 < 0 ? -1 : map[Int(column[Int($0)])] }
            }
            reachable.append(fieldSymbols)
            rowLinks.append(links)
        }
        return (reachable, rowLinks)
    }
}
