/// Checksums that confirm a candidate before it is redacted, so that order numbers and other
/// digit runs that merely look like card numbers or IBANs are left alone.
enum Checksums {
    /// Luhn (mod 10) over the digits of `text`, ignoring spaces and dashes; 13–19 digits.
    static func luhnValid(_ text: Substring) -> Bool {
        var digits: [Int] = []
        digits.reserveCapacity(19)
        for byte in text.utf8 {
            if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                digits.append(Int(byte - UInt8(ascii: "0")))
            }
        }
        guard (13...19).contains(digits.count) else { return false }
        // All-same-digit runs (0000 0000 0000 0000) pass Luhn but are placeholders, not cards.
        if Set(digits).count == 1 { return false }
        var sum = 0
        for (index, digit) in digits.reversed().enumerated() {
            if index % 2 == 1 {
                let doubled = digit * 2
                sum += doubled > 9 ? doubled - 9 : doubled
            } else {
                sum += digit
            }
        }
        return sum % 10 == 0
    }

    /// ISO 13616 IBAN check (mod 97 == 1) over `text` with spaces removed; 15–34 characters.
    static func ibanValid(_ text: Substring) -> Bool {
        let compact = text.utf8.filter { $0 != UInt8(ascii: " ") }
        guard (15...34).contains(compact.count) else { return false }
        let rearranged = compact[4...] + compact[..<4]
        var remainder = 0
        for byte in rearranged {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                remainder = (remainder * 10 + Int(byte - UInt8(ascii: "0"))) % 97
            case UInt8(ascii: "A")...UInt8(ascii: "Z"):
                let value = Int(byte - UInt8(ascii: "A")) + 10
                remainder = (remainder * 100 + value) % 97
            default:
                return false
            }
        }
        return remainder == 1
    }

    /// Digit count between bounds, used to confirm phone-number candidates.
    static func digitCount(_ text: Substring, in range: ClosedRange<Int>) -> Bool {
        range.contains(text.utf8.reduce(0) { $0 + (($1 >= 48 && $1 <= 57) ? 1 : 0) })
    }
}
