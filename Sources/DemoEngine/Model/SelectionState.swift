/// Selections of one session in one app: field index → selected global symbols.
public struct SelectionState: Hashable, Sendable {
    public var selected: [Int: Set<Int32>] = [:]

    public init(selected: [Int: Set<Int32>] = [:]) {
        self.selected = selected
    }

    public var isEmpty: Bool { selected.isEmpty }

    public mutating func set(field: Int, values: Set<Int32>) {
        selected[field] = values.isEmpty ? nil : values
    }

    public mutating func clear(field: Int) {
        selected[field] = nil
    }
}

/// The result of applying a selection state to a model: which rows of each table are still
/// possible, after propagating through key fields until nothing changes.
public struct ModelState: Sendable {
    /// `possible[t][row]`.
    public let possible: [[Bool]]
    public let selection: SelectionState

    public init(model: DataModel, selection: SelectionState) {
        self.selection = selection
        var masks = model.tables.map { [Bool](repeating: true, count: $0.rowCount) }
        for (fieldIndex, values) in selection.selected {
            let field = model.fields[fieldIndex]
            var allowed = [Bool](repeating: false, count: field.values.count)
            for symbol in values where Int(symbol) < allowed.count && symbol >= 0 { allowed[Int(symbol)] = true }
            for (position, location) in field.locations.enumerated() {
                let column = model.tables[location.table].columns[location.column]
                let map = field.localToGlobal[position]
                for row in 0..<column.count where masks[location.table][row] && !allowed[Int(map[Int(column[row])])] {
                    masks[location.table][row] = false
                }
            }
        }
        guard !selection.isEmpty else {
            self.possible = masks
            return
        }
        var changed = true
        while changed {
            changed = false
            for field in model.fields where field.isKey {
                var allowed = [Bool](repeating: true, count: field.values.count)
                for (position, location) in field.locations.enumerated() {
                    var present = [Bool](repeating: false, count: field.values.count)
                    let column = model.tables[location.table].columns[location.column]
                    let map = field.localToGlobal[position]
                    for row in 0..<column.count where masks[location.table][row] { present[Int(map[Int(column[row])])] = true }
                    for symbol in 0..<allowed.count where !present[symbol] { allowed[symbol] = false }
                }
                for (position, location) in field.locations.enumerated() {
                    let column = model.tables[location.table].columns[location.column]
                    let map = field.localToGlobal[position]
                    for row in 0..<column.count where masks[location.table][row] && !allowed[Int(map[Int(column[row])])] {
                        masks[location.table][row] = false
                        changed = true
                    }
                }
            }
        }
        self.possible = masks
    }

    /// Global symbols of `field` that occur in possible rows.
    public func possibleValues(of field: DataModel.Field, in model: DataModel) -> [Bool] {
        var present = [Bool](repeating: false, count: field.values.count)
        for (position, location) in field.locations.enumerated() {
            let column = model.tables[location.table].columns[location.column]
            let map = field.localToGlobal[position]
            let mask = possible[location.table]
            for row in 0..<column.count where mask[row] { present[Int(map[Int(column[row])])] = true }
        }
        return present
    }

    public func possibleRowCount(table: Int) -> Int { possible[table].reduce(0) { $0 + ($1 ? 1 : 0) } }
}
