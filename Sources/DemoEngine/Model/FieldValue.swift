/// A value in the data model: Qlik's "dual" — a text and, when numeric, a number.
public struct FieldValue: Hashable, Sendable {
    public let text: String
    public let number: Double?

    public init(text: String, number: Double?) {
        self.text = text
        self.number = number
    }

    public static func text(_ text: String) -> FieldValue { FieldValue(text: text, number: nil) }

    public static func number(_ number: Double) -> FieldValue {
        FieldValue(text: NumberFormatting.text(number), number: number)
    }

    /// A date as Qlik stores it: serial day number since 1899-12-30, text `YYYY-MM-DD`.
    public static func date(year: Int, month: Int, day: Int) -> FieldValue {
        FieldValue(text: String(format: "%04d-%02d-%02d", year, month, day), number: Double(QlikDate.serial(year: year, month: month, day: day)))
    }
}

/// Qlik date serial numbers (days since 1899-12-30).
public enum QlikDate {
    public static func serial(year: Int, month: Int, day: Int) -> Int {
        // Days from civil (proleptic Gregorian), shifted to Qlik's epoch.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let daysSince1970 = era * 146_097 + doe - 719_468
        return daysSince1970 + 25_569
    }
}

/// How the engine prints numbers: integers without decimals, others with 15 significant digits
/// and no trailing zeros (close to Qlik's default number format).
public enum NumberFormatting {
    public static func text(_ number: Double) -> String {
        guard number.isFinite else { return "-" }
        if number.rounded() == number && abs(number) < 1e15 { return String(Int64(number)) }
        var text = String(format: "%.15g", number)
        guard !text.contains("e") else { return text }
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }
}
