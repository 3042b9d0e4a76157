/// A compensated (Neumaier) running sum: keeps sums of money exact to the cent over 100,000s of rows.
struct CompensatedSum {
    private var sum = 0.0
    private var compensation = 0.0

    @inline(__always)
    mutating func add(_ n: Double) {
        let total = sum + n
        compensation += abs(sum) >= abs(n) ? (sum - total) + n : (n - total) + sum
        sum = total
    }

    var value: Double { sum + compensation }
}

/// Count, compensated sum, minimum and maximum of the numbers of one group — the part every
/// aggregation path shares.
struct NumericSummary {
    var count = 0
    var sum = CompensatedSum()
    var numericCount = 0
    var min = Double.infinity
    var max = -Double.infinity

    /// Counts one non-null value; `number` is nil (or NaN) when it is not numeric.
    @inline(__always)
    mutating func add(_ number: Double?) {
        count += 1
        guard let n = number, !n.isNaN else { return }
        sum.add(n)
        numericCount += 1
        if n < min { min = n }
        if n > max { max = n }
    }

    /// Sum, Count, Avg, Min or Max (nil for Only, which needs the values themselves).
    func result(_ function: AggregationFunction) -> FieldValue? {
        switch function {
        case .sum: return .number(sum.value)
        case .count: return .number(Double(count))
        case .avg: return numericCount > 0 ? .number(sum.value / Double(numericCount)) : nil
        case .min: return numericCount > 0 ? .number(min) : nil
        case .max: return numericCount > 0 ? .number(max) : nil
        case .only: return nil
        }
    }
}

/// Running state of one aggregation for one group.
struct Accumulator {
    var summary = NumericSummary()
    var distinct: Set<FieldValue>?
    var only: FieldValue?
    var onlyConflict = false

    init(distinct: Bool) {
        self.distinct = distinct ? [] : nil
    }

    mutating func add(_ value: FieldValue?) {
        guard let value else { return }
        if distinct != nil {
            distinct!.insert(value)
            return
        }
        summary.add(value.number ?? Double(value.text))
        if only == nil { only = value } else if only != value { onlyConflict = true }
    }

    func result(_ function: AggregationFunction) -> FieldValue? {
        if let distinct {
            switch function {
            case .count: return .number(Double(distinct.count))
            case .only: return distinct.count == 1 ? distinct.first : nil
            default:
                let numbers = distinct.compactMap { $0.number ?? Double($0.text) }
                var acc = Accumulator(distinct: false)
                for n in numbers { acc.add(.number(n)) }
                return acc.result(function)
            }
        }
        return function == .only ? (onlyConflict ? nil : only) : summary.result(function)
    }
}
