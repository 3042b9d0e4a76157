/// Compiles row-level expressions (inside an aggregation) to closures over one table's rows.
enum RowCompiler {
    typealias Row = (Int) -> FieldValue?

    static func compile(_ expr: Expr, model: DataModel, table: Int) throws -> Row {
        switch expr {
        case .number(let n):
            let value = FieldValue.number(n)
            return { _ in value }
        case .string(let s):
            let value = FieldValue.text(s)
            return { _ in value }
        case .field(let name, let offset):
            guard let field = model.field(named: name) else { throw ExpressionError("unknown field '\(name)'", offset: offset) }
            guard let symbols = model.symbols(of: field.index, inRowsOf: table) else {
                throw ExpressionError("field '\(name)' is not linked to table '\(model.tables[table].name)' through many-to-one keys", offset: offset, unsupported: true)
            }
            let values = field.values
            return { row in
                let symbol = symbols[row]
                return symbol < 0 ? nil : values[Int(symbol)]
            }
        case .unary(let op, let inner):
            let f = try compile(inner, model: model, table: table)
            return { ScalarOperations.apply(op, f($0)) }
        case .binary(let op, let l, let r):
            let left = try compile(l, model: model, table: table)
            let right = try compile(r, model: model, table: table)
            return { ScalarOperations.apply(op, left($0), right($0)) }
        case .ifThenElse(let c, let t, let o):
            let condition = try compile(c, model: model, table: table)
            let then = try compile(t, model: model, table: table)
            let otherwise = try o.map { try compile($0, model: model, table: table) }
            return { row in ScalarOperations.isTrue(condition(row)) ? then(row) : otherwise?(row) }
        case .aggregate:
            throw ExpressionError("nested aggregation is not supported", unsupported: true)
        }
    }
}

/// Compiles the outer (per-group) part of a measure: aggregations become lookups of their results.
enum OuterCompiler {
    typealias Outer = (_ group: Int, _ results: [[FieldValue?]]) -> FieldValue?

    static func compile(_ expr: Expr, model: DataModel, aggregations: inout [Aggregation]) throws -> Outer {
        switch expr {
        case .number(let n):
            let value = FieldValue.number(n)
            return { _, _ in value }
        case .string(let s):
            let value = FieldValue.text(s)
            return { _, _ in value }
        case .field(let name, let offset):
            // A bare field outside an aggregation means Only(field), as in Qlik.
            guard model.field(named: name) != nil else { throw ExpressionError("unknown field '\(name)'", offset: offset) }
            return try compile(.aggregate(Aggregation(function: .only, distinct: false, set: nil, argument: expr, fields: [name])), model: model, aggregations: &aggregations)
        case .unary(let op, let inner):
            let f = try compile(inner, model: model, aggregations: &aggregations)
            return { ScalarOperations.apply(op, f($0, $1)) }
        case .binary(let op, let l, let r):
            let left = try compile(l, model: model, aggregations: &aggregations)
            let right = try compile(r, model: model, aggregations: &aggregations)
            return { ScalarOperations.apply(op, left($0, $1), right($0, $1)) }
        case .ifThenElse(let c, let t, let o):
            let condition = try compile(c, model: model, aggregations: &aggregations)
            let then = try compile(t, model: model, aggregations: &aggregations)
            let otherwise = try o.map { try compile($0, model: model, aggregations: &aggregations) }
            return { g, r in ScalarOperations.isTrue(condition(g, r)) ? then(g, r) : otherwise?(g, r) }
        case .aggregate(let aggregation):
            for name in aggregation.fields where model.field(named: name) == nil {
                throw ExpressionError("unknown field '\(name)'")
            }
            let index = aggregations.count
            aggregations.append(aggregation)
            return { group, results in results[index][group] }
        }
    }
}
