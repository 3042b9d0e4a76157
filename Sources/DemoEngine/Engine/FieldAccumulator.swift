/// The fast path of an aggregation whose argument is a plain field (`Sum(Sales)`,
/// `Count(DISTINCT OrderID)`): it works on value symbols and a per-symbol number table instead of
/// materialising a `FieldValue` per row. Results match `Accumulator`.
struct FieldAccumulator {
    var summary = NumericSummary()
    var distinct: Set<Int32>?
    var only: Int32 = -1
    var onlyConflict = false

    init(distinct: Bool) {
        self.distinct = distinct ? [] : nil
    }

    @inline(__always)
    mutating func add(symbol: Int32, numbers: UnsafeBufferPointer<Double>) {
        guard symbol >= 0 else { return }
        if distinct != nil {
            distinct!.insert(symbol)
            return
        }
        summary.add(numbers[Int(symbol)])
        if only < 0 { only = symbol } else if only != symbol { onlyConflict = true }
    }

    func result(_ function: AggregationFunction, values: [FieldValue]) -> FieldValue? {
        if let distinct {
            switch function {
            case .count: return .number(Double(distinct.count))
            case .only: return distinct.count == 1 ? values[Int(distinct.first!)] : nil
            default:
                var acc = Accumulator(distinct: false)
                for symbol in distinct { acc.add(values[Int(symbol)]) }
                return acc.result(function)
            }
        }
        return function == .only ? (onlyConflict || only < 0 ? nil : values[Int(only)]) : summary.result(function)
    }
}
