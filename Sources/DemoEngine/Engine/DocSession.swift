import JSONCore

/// One session's view of an open app: its selections, cached model states, and expression
/// evaluation with variables and set analysis.
final class DocSession {
    let app: DemoApp
    /// The selections, shared with the other sockets of the same engine session (identity).
    private let selectionBox: SelectionBox
    var selection: SelectionState { selectionBox.value }
    private var stateCache: [SelectionState: ModelState] = [:]
    private static let stateCacheLimit = 32

    /// Section access: field index → the symbols this user may see; rows with other values are
    /// left out of every state (as if the app had been reduced when it was opened).
    private let reduction: [Int: Set<Int32>]

    init(app: DemoApp, selection: SelectionBox = SelectionBox(), reduction: [String: Set<String>]? = nil) {
        self.app = app
        self.selectionBox = selection
        var symbols: [Int: Set<Int32>] = [:]
        for (name, allowed) in reduction ?? [:] {
            guard let index = app.model.fields.firstIndex(where: { $0.name == name }) else { continue }
            let field = app.model.fields[index]
            symbols[index] = Set(field.values.indices.filter { allowed.contains(field.values[$0].text) }.map { Int32($0) })
        }
        self.reduction = symbols
    }

    var model: DataModel { app.model }

    /// The model state for `selection` (cached; bounded).
    func state(_ selection: SelectionState) -> ModelState {
        if let cached = stateCache[selection] { return cached }
        if stateCache.count >= Self.stateCacheLimit { stateCache.removeAll(keepingCapacity: true) }
        var reduced = selection
        for (field, allowed) in reduction { reduced.selected[field] = reduced.selected[field].map { $0.intersection(allowed) } ?? allowed }
        let state = ModelState(model: model, selection: reduced)
        stateCache[selection] = state
        return state
    }

    var currentState: ModelState { state(selection) }

    func setSelection(_ selection: SelectionState) {
        selectionBox.value = selection
    }

    // MARK: expressions

    func variableDefinition(_ name: String) -> String? {
        app.variables.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.definition
    }

    /// Dollar-expands and parses `text`.
    func parse(_ text: String) throws -> Expr {
        let expanded = try DollarExpansion.expand(
            text, variable: variableDefinition,
            evaluate: { inner in
                try self.evaluate(inner)?.text ?? "-"
            })
        return try ExpressionParser.parse(expanded)
    }

    var evaluator: CubeEvaluator {
        CubeEvaluator(model: model, state: { [unowned self] in self.state($0) }, current: selection)
    }

    /// Evaluates `text` without dimensions, under the current selections.
    func evaluate(_ text: String) throws -> FieldValue? {
        try evaluator.evaluateScalar(parse(text))
    }

    /// Unknown field names in `text` with their positions (for CheckExpression).
    func unknownFields(in text: String) throws -> [(name: String, offset: Int)] {
        let expanded = try DollarExpansion.expand(text, variable: variableDefinition, evaluate: { _ in "0" })
        let expr = try ExpressionParser.parse(expanded)
        var unknown: [(String, Int)] = []
        func walk(_ e: Expr) {
            switch e {
            case .field(let name, let offset): if model.field(named: name) == nil { unknown.append((name, offset)) }
            case .unary(_, let inner): walk(inner)
            case .binary(_, let l, let r): walk(l); walk(r)
            case .ifThenElse(let c, let t, let o): walk(c); walk(t); if let o { walk(o) }
            case .aggregate(let a):
                walk(a.argument)
                for modifier in a.set?.modifiers ?? [] where model.field(named: modifier.field) == nil {
                    unknown.append((modifier.field, 0))
                }
            case .number, .string: break
            }
        }
        walk(expr)
        return unknown
    }

    // MARK: selections

    /// Symbols of `field` whose text matches `pattern` (Qlik search: `*` and `?` wildcards,
    /// case-insensitive; without wildcards an exact match).
    func match(_ pattern: String, in field: DataModel.Field) -> Set<Int32> {
        let wildcard = pattern.contains("*") || pattern.contains("?")
        guard wildcard else { return Set(field.symbols(matchingText: pattern)) }
        var result = Set<Int32>()
        for (symbol, value) in field.values.enumerated() {
            let matches =
                wildcard
                ? Wildcard.matches(value.text, pattern: pattern)
                : value.text.caseInsensitiveCompare(pattern) == .orderedSame
            if matches { result.insert(Int32(symbol)) }
        }
        return result
    }

    /// Applies a bookmark's selections (replacing the current ones). False when a field is missing.
    func apply(_ bookmark: DemoApp.Bookmark) -> Bool {
        var next = SelectionState()
        for (fieldName, values) in bookmark.selections {
            guard let field = model.field(named: fieldName) else { return false }
            var symbols = Set<Int32>()
            for value in values { symbols.formUnion(match(value, in: field)) }
            next.set(field: field.index, values: symbols)
        }
        selectionBox.value = next
        return true
    }
}

/// Qlik-style wildcard matching: `*` any run, `?` one character, case-insensitive.
enum Wildcard {
    static func matches(_ text: String, pattern: String) -> Bool {
        let t = Array(text.lowercased())
        let p = Array(pattern.lowercased())
        var ti = 0
        var pi = 0
        var star = -1
        var mark = 0
        while ti < t.count {
            if pi < p.count && (p[pi] == "?" || p[pi] == t[ti]) {
                ti += 1; pi += 1
            } else if pi < p.count && p[pi] == "*" {
                star = pi; mark = ti; pi += 1
            } else if star >= 0 {
                pi = star + 1; mark += 1; ti = mark
            } else {
                return false
            }
        }
        while pi < p.count && p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}
