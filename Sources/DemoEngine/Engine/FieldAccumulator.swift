/// The fast path of an aggregation whose argument is a plain field (`Sum(Sales)`,
/// `Count(DISTINCT OrderID)`): it works on value symbols and a per-symbol number table instead of
/// materialising a `FieldValue` per row. Results match `Accumulator`.
struct FieldAccumulator {
    var count = 0
    var sum = CompensatedSum()
    var numericCount = 0
    var min = Double.infinity
    var max = -Double.infinity
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
        count += 1
        let n = numbers[Int(symbol)]
        if !n.isNaN {
            sum.add(n)
            numericCount += 1
            if n < min { min = n }
            if n > max { max = n }
        }
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
        switch function {
        case .sum: return .number(sum.value)
        case .count: return .number(Double(count))
        case .avg: return numericCount > 0 ? .number(sum.value / Double(numericCount)) : nil
        case .min: return numericCount > 0 ? .number(min) : nil
        case .max: return numericCount > 0 ? .number(max) : nil
        case .only: return onlyConflict || only < 0 ? nil : values[Int(only)]
        }
    }
}
