import Foundation

/// Scalar arithmetic and comparison with Qlik's rules: null propagates through arithmetic,
/// comparisons give -1 (true) or 0 (false), text that reads as a number counts as one.
enum ScalarOperations {
    static let trueValue = FieldValue.number(-1)
    static let falseValue = FieldValue.number(0)

    static func number(_ value: FieldValue?) -> Double? {
        guard let value else { return nil }
        return value.number ?? Double(value.text)
    }

    static func isTrue(_ value: FieldValue?) -> Bool {
        guard let n = number(value) else { return false }
        return n != 0
    }

    static func bool(_ flag: Bool) -> FieldValue { flag ? trueValue : falseValue }

    static func apply(_ op: BinaryOperator, _ left: FieldValue?, _ right: FieldValue?) -> FieldValue? {
        switch op {
        case .add, .subtract, .multiply, .divide:
            guard let l = number(left), let r = number(right) else { return nil }
            let result: Double
            switch op {
            case .add: result = l + r
            case .subtract: result = l - r
            case .multiply: result = l * r
            default:
                guard r != 0 else { return nil }  // Qlik: division by zero is null
                result = l / r
            }
            return .number(result)
        case .concat:
            return .text((left?.text ?? "") + (right?.text ?? ""))
        case .and:
            return bool(isTrue(left) && isTrue(right))
        case .or:
            return bool(isTrue(left) || isTrue(right))
        case .equal, .notEqual, .less, .lessEqual, .greater, .greaterEqual:
            guard let left, let right else { return falseValue }
            let order: Int
            if let l = number(left), let r = number(right) {
                order = l < r ? -1 : (l > r ? 1 : 0)
            } else {
                let comparison = left.text.caseInsensitiveCompare(right.text)
                order = comparison == .orderedAscending ? -1 : (comparison == .orderedDescending ? 1 : 0)
            }
            switch op {
            case .equal: return bool(order == 0)
            case .notEqual: return bool(order != 0)
            case .less: return bool(order < 0)
            case .lessEqual: return bool(order <= 0)
            case .greater: return bool(order > 0)
            default: return bool(order >= 0)
            }
        }
    }

    static func apply(_ op: UnaryOperator, _ value: FieldValue?) -> FieldValue? {
        switch op {
        case .negate: return number(value).map { .number(-$0) }
        case .not: return bool(!isTrue(value))
        }
    }
}
