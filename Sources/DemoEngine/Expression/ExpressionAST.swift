/// A parsed Qlik expression (the subset the demo engine evaluates).
indirect enum Expr: Sendable {
    case number(Double)
    case string(String)
    /// A field reference; `offset` is its position in the expression text.
    case field(String, offset: Int)
    case unary(UnaryOperator, Expr)
    case binary(BinaryOperator, Expr, Expr)
    case ifThenElse(Expr, Expr, Expr?)
    case aggregate(Aggregation)
}

enum UnaryOperator: Sendable { case negate, not }

enum BinaryOperator: Sendable {
    case add, subtract, multiply, divide, concat
    case equal, notEqual, less, lessEqual, greater, greaterEqual
    case and, or
}

/// The aggregation functions the demo engine supports.
enum AggregationFunction: String, Sendable, CaseIterable {
    case sum = "Sum"
    case count = "Count"
    case avg = "Avg"
    case min = "Min"
    case max = "Max"
    case only = "Only"
}

/// One aggregation call, e.g. `Sum({<Year={2025}>} Sales * Quantity)`.
struct Aggregation: Sendable {
    let function: AggregationFunction
    let distinct: Bool
    let set: SetExpression?
    let argument: Expr
    /// Fields referenced by the argument.
    let fields: [String]
}

/// Simple set analysis: `{1}`, `{$}`, `{<F={'a','b'}, G={2025}, H=>}`, `{1<F={'x'}>}`.
struct SetExpression: Sendable, Hashable {
    enum Base: Sendable, Hashable { case current, all }
    struct Modifier: Sendable, Hashable {
        let field: String
        /// nil clears the field (`F=`).
        let values: [SetValue]?
    }
    enum SetValue: Sendable, Hashable {
        case text(String)
        case number(Double)
    }
    let base: Base
    let modifiers: [Modifier]
}

/// Why an expression could not be parsed or evaluated, with the position when known.
public struct ExpressionError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public let offset: Int?
    /// True when the expression is valid Qlik but outside the demo engine's subset.
    public let unsupported: Bool

    init(_ message: String, offset: Int? = nil, unsupported: Bool = false) {
        self.message = message
        self.offset = offset
        self.unsupported = unsupported
    }

    public var description: String {
        offset.map { "\(message) (at position \($0))" } ?? message
    }
}
