/// Evaluates measures over the groups formed by dimension fields, with Qlik's associative
/// semantics: each aggregation runs at the grain of the table its fields live in (a customer's
/// credit limit is counted once per customer, not once per order line), reaches dimensions through
/// many-to-one links, and honours the current selections or its own set expression.
struct CubeEvaluator {
    let model: DataModel
    /// The model state for a selection state (the caller caches).
    let state: (SelectionState) -> ModelState
    let current: SelectionState

    /// The evaluated cube: one row per group (dimension symbols), one value per measure.
    struct Result {
        var groups: [[Int32]]
        var values: [[FieldValue?]]
    }

    /// Evaluates `measures` grouped by `dimensions` (field indexes).
    func evaluate(dimensions: [Int], measures: [Expr]) throws -> Result {
        var aggregations: [Aggregation] = []
        let outers = try measures.map { try OuterCompiler.compile($0, model: model, aggregations: &aggregations) }
        let groupTable: Int? = dimensions.isEmpty ? nil : try smallestTable(reaching: dimensions, what: "the dimensions")
        // Group keys are mixed-radix integers; refuse key spaces that do not fit in 63 bits rather
        // than risk colliding keys (a wrong number).
        let keySpace = dimensions.reduce(1.0) { $0 * Double(model.fields[$1].values.count + 1) }
        guard keySpace < 9.0e18 else {
            throw ExpressionError("the dimensions' combined cardinality (\(keySpace)) is too large for the demo engine; use fewer or smaller dimensions", unsupported: true)
        }
        // Groups: the associated dimension value combinations under the current selections.
        var keys: [Int: Int] = [:]
        var groups: [[Int32]] = []
        let radix = dimensions.map { model.fields[$0].values.count + 1 }
        if let groupTable {
            let columns = dimensions.map { model.symbols(of: $0, inRowsOf: groupTable)! }
            let mask = state(current).possible[groupTable]
            let space = radix.reduce(1) { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max : $0 * $1 }
            var seen = space <= 1 << 20 ? [Bool](repeating: false, count: space) : nil
            for row in 0..<mask.count where mask[row] {
                let key = Self.key(row: row, columns: columns, radix: radix)
                if seen != nil {
                    if seen![key] { continue }
                    seen![key] = true
                } else if keys[key] != nil {
                    continue
                }
                keys[key] = groups.count
                groups.append(columns.map { $0[row] })
            }
        } else {
            keys[0] = 0
            groups = [[]]
        }
        var results: [[FieldValue?]] = []
        for aggregation in aggregations {
            results.append(try run(aggregation, dimensions: dimensions, radix: radix, keys: keys, groupCount: groups.count))
        }
        let values = (0..<groups.count).map { group in outers.map { $0(group, results) } }
        return Result(groups: groups, values: values)
    }

    /// Evaluates one expression without dimensions (as `Evaluate` does).
    func evaluateScalar(_ expr: Expr) throws -> FieldValue? {
        try evaluate(dimensions: [], measures: [expr]).values[0][0]
    }

    private static func key(row: Int, columns: [[Int32]], radix: [Int]) -> Int {
        var key = 0
        for (index, column) in columns.enumerated() {
            key = key &* radix[index] &+ Int(column[row] + 1)
        }
        return key
    }

    private func smallestTable(reaching fields: [Int], what: String) throws -> Int {
        let candidates = model.tables.indices.filter { table in fields.allSatisfy { model.symbols(of: $0, inRowsOf: table) != nil } }
        guard let best = candidates.min(by: { model.tables[$0].rowCount < model.tables[$1].rowCount }) else {
            let names = fields.map { model.fields[$0].name }.joined(separator: ", ")
            throw ExpressionError("\(what) (\(names)) are not linked through many-to-one keys; the demo engine cannot associate them", unsupported: true)
        }
        return best
    }

    private func run(_ aggregation: Aggregation, dimensions: [Int], radix: [Int], keys: [Int: Int], groupCount: Int) throws -> [FieldValue?] {
        let fieldIndexes = aggregation.fields.map { model.field(named: $0)!.index }
        // Grain: the home table of the first field that reaches all the others.
        let grain: Int
        if fieldIndexes.isEmpty {
            grain =
                dimensions.isEmpty
                ? model.tables.indices.max(by: { model.tables[$0].rowCount < model.tables[$1].rowCount })!
                : try smallestTable(reaching: dimensions, what: "the dimensions")
        } else if let home = fieldIndexes.lazy.map({ model.fields[$0].homeTable }).first(where: { home in
            fieldIndexes.allSatisfy { model.symbols(of: $0, inRowsOf: home) != nil }
        }) {
            grain = home
        } else {
            grain = try smallestTable(reaching: fieldIndexes, what: "the fields of \(aggregation.function.rawValue)()")
        }
        // Driving table: the grain itself when it reaches the dimensions, else one that reaches both.
        let driver: Int
        if dimensions.allSatisfy({ model.symbols(of: $0, inRowsOf: grain) != nil }) {
            driver = grain
        } else {
            let candidates = model.tables.indices.filter { table in
                model.manyToOneReach(from: table).contains(grain) && dimensions.allSatisfy { model.symbols(of: $0, inRowsOf: table) != nil }
            }
            guard let best = candidates.min(by: { model.tables[$0].rowCount < model.tables[$1].rowCount }) else {
                throw ExpressionError(
                    "\(aggregation.function.rawValue)() over \(aggregation.fields.joined(separator: ", ")) cannot be associated with the dimensions through many-to-one keys", unsupported: true)
            }
            driver = best
        }
        let modelState = state(try resolve(aggregation.set))
        let mask = modelState.possible[driver]
        let grainMask = modelState.possible[grain]
        let link = model.rowLinks[driver][grain]!
        let columns = dimensions.map { model.symbols(of: $0, inRowsOf: driver)! }
        let grouping = GroupLookup(keys: keys, radix: radix)
        let dedupe = driver != grain
        var seen = Set<Int>()
        let grainRows = model.tables[grain].rowCount + 1
        /// Calls `body(group, grainRow)` for every possible driver row that belongs to a group,
        /// once per grain row and group when the driver is finer than the grain.
        func visitRows(_ body: (Int, Int) -> Void) {
            for row in 0..<mask.count where mask[row] {
                let grainRow = Int(link[row])
                guard grainRow >= 0, grainMask[grainRow] else { continue }
                let group = dimensions.isEmpty ? 0 : grouping.group(row: row, columns: columns)
                guard group >= 0 else { continue }
                if dedupe && !seen.insert(group &* grainRows &+ grainRow).inserted { continue }
                body(group, grainRow)
            }
        }
        if case .field(let name, _) = aggregation.argument, let field = model.field(named: name),
            let symbols = model.symbols(of: field.index, inRowsOf: grain)
        {
            // Fast path: a plain field.
            var accumulators = [FieldAccumulator](repeating: FieldAccumulator(distinct: aggregation.distinct), count: groupCount)
            field.numbers.withUnsafeBufferPointer { numbers in
                visitRows { group, grainRow in accumulators[group].add(symbol: symbols[grainRow], numbers: numbers) }
            }
            return accumulators.map { $0.result(aggregation.function, values: field.values) }
        }
        let argument = try RowCompiler.compile(aggregation.argument, model: model, table: grain)
        var accumulators = [Accumulator](repeating: Accumulator(distinct: aggregation.distinct), count: groupCount)
        visitRows { group, grainRow in accumulators[group].add(argument(grainRow)) }
        return accumulators.map { $0.result(aggregation.function) }
    }

    /// The selection state a set expression describes.
    func resolve(_ set: SetExpression?) throws -> SelectionState {
        guard let set else { return current }
        var selection = set.base == .all ? SelectionState() : current
        for modifier in set.modifiers {
            guard let field = model.field(named: modifier.field) else {
                throw ExpressionError("unknown field '\(modifier.field)' in set modifier")
            }
            guard let values = modifier.values else {
                selection.selected[field.index] = nil
                continue
            }
            var symbols = Set<Int32>()
            for wanted in values {
                switch wanted {
                case .text(let text):
                    symbols.formUnion(field.symbols(matchingText: text))
                case .number(let number):
                    symbols.formUnion(field.symbols(matchingNumber: number))
                    symbols.formUnion(field.symbols(matchingText: NumberFormatting.text(number)))
                }
            }
            selection.selected[field.index] = symbols  // may be empty: nothing matches
        }
        return selection
    }
}

/// Maps a row's dimension symbols to its group: a dense table when the key space is small
/// (the usual case: a few dimensions with modest cardinality), a dictionary otherwise.
struct GroupLookup {
    private let keys: [Int: Int]
    private let radix: [Int]
    private let dense: [Int32]?

    init(keys: [Int: Int], radix: [Int]) {
        self.keys = keys
        self.radix = radix
        let space = radix.reduce(1) { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max : $0 * $1 }
        if space <= 1 << 20 {
            var table = [Int32](repeating: -1, count: space)
            for (key, group) in keys where key < space { table[key] = Int32(group) }
            dense = table
        } else {
            dense = nil
        }
    }

    @inline(__always)
    func group(row: Int, columns: [[Int32]]) -> Int {
        var key = 0
        for index in 0..<columns.count { key = key &* radix[index] &+ Int(columns[index][row] + 1) }
        if let dense { return Int(dense[key]) }
        return keys[key] ?? -1
    }
}
