import Foundation

/// One PII detection rule: a regular expression, an optional validator that confirms a candidate
/// (for example a Luhn check for card numbers) and the replacement written in its place.
///
/// Rules are values so a configuration can list, disable or add them. Matching uses
/// `NSRegularExpression` (ICU); every built-in rule also has a cheap `trigger` that rejects most
/// texts without running the expression at all, which keeps clean log lines fast.
public struct ScrubRule: Sendable {
    /// The kind written into the marker, e.g. `email` → `[REDACTED:email]`. Also the rule's name.
    public let kind: String
    let regex: NSRegularExpression
    /// Capture group to replace; 0 replaces the whole match (e.g. `Bearer <token>` keeps `Bearer `).
    let group: Int
    let trigger: @Sendable (TextShape) -> Bool
    let validate: @Sendable (Substring) -> Bool

    /// Creates a rule from a regular expression.
    /// - Parameters:
    ///   - kind: name of the rule and the word in `[REDACTED:<kind>]`; letters, digits, `_` and `-`.
    ///   - pattern: ICU regular expression.
    ///   - group: capture group to replace; 0 replaces the whole match.
    /// - Throws: `ScrubRuleError` when the kind or the pattern is invalid.
    public init(kind: String, pattern: String, group: Int = 0) throws {
        try self.init(kind: kind, pattern: pattern, group: group, trigger: { _ in true }, validate: { _ in true })
    }

    init(
        kind: String,
        pattern: String,
        group: Int = 0,
        options: NSRegularExpression.Options = [],
        trigger: @escaping @Sendable (TextShape) -> Bool,
        validate: @escaping @Sendable (Substring) -> Bool = { _ in true }
    ) throws {
        guard !kind.isEmpty, kind.unicodeScalars.allSatisfy({ $0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == "-" }) else {
            throw ScrubRuleError.invalidKind(kind)
        }
        let regex: NSRegularExpression
        do {
            regex = try NSRegularExpression(pattern: pattern, options: options)
        } catch {
            throw ScrubRuleError.invalidPattern(kind: kind, pattern: pattern, reason: "\(error)")
        }
        guard group >= 0, group <= regex.numberOfCaptureGroups else {
            throw ScrubRuleError.invalidGroup(kind: kind, group: group, available: regex.numberOfCaptureGroups)
        }
        self.kind = kind
        self.regex = regex
        self.group = group
        self.trigger = trigger
        self.validate = validate
    }

    /// The marker this rule writes.
    public var marker: String { "[REDACTED:\(kind)]" }
}

/// Why a scrub rule could not be built.
public enum ScrubRuleError: Error, CustomStringConvertible, Equatable {
    case invalidKind(String)
    case invalidPattern(kind: String, pattern: String, reason: String)
    case invalidGroup(kind: String, group: Int, available: Int)
    case unknownRule(String, known: [String])
    case invalidConfiguration(String)

    public var description: String {
        switch self {
        case .invalidKind(let kind):
            return "scrub rule kind '\(kind)' is invalid: use letters, digits, '_' or '-' (e.g. employee_id)"
        case .invalidPattern(let kind, let pattern, let reason):
            return "scrub rule '\(kind)': pattern '\(pattern)' is not a valid regular expression: \(reason)"
        case .invalidGroup(let kind, let group, let available):
            return "scrub rule '\(kind)': capture group \(group) does not exist (the pattern has \(available))"
        case .unknownRule(let name, let known):
            return "unknown scrub rule '\(name)'; known rules: \(known.joined(separator: ", "))"
        case .invalidConfiguration(let reason):
            return "invalid scrubber configuration: \(reason)"
        }
    }
}

/// A one-pass summary of a text that lets rules skip texts that cannot contain what they look for.
/// Computing it costs one scan of the UTF-8 bytes; it saves a regular-expression run per rule.
struct TextShape {
    let text: String
    var digits = 0
    var maxDigitRun = 0
    var at = false
    var colons = 0
    var dots = 0
    var equals = false
    /// `+` directly followed by a digit, or `(` directly followed by a digit.
    var phoneLead = false
    /// Occurrences of digit, `-` or `.`, digit.
    var separatedDigits = 0
    /// Occurrences of digit `.` digit.
    var dottedDigits = 0
    /// Two uppercase letters followed by two digits (an IBAN's start).
    var ibanLead = false

    init(_ text: String) {
        self.text = text
        if text.utf8.withContiguousStorageIfAvailable({ self.scan($0) }) == nil {
            Array(text.utf8).withUnsafeBufferPointer { self.scan($0) }
        }
    }

    private mutating func scan(_ bytes: UnsafeBufferPointer<UInt8>) {
        var run = 0
        var previous: UInt8 = 0
        var beforePrevious: UInt8 = 0
        var upperRun = 0
        var digitsAfterUpper = 0
        for byte in bytes {
            let isDigit = byte >= 48 && byte <= 57
            if isDigit {
                digits += 1
                run += 1
                if run > maxDigitRun { maxDigitRun = run }
                if previous == UInt8(ascii: "+") || previous == UInt8(ascii: "(") { phoneLead = true }
                if beforePrevious >= 48 && beforePrevious <= 57 {
                    if previous == UInt8(ascii: "-") { separatedDigits += 1 }
                    if previous == UInt8(ascii: ".") { separatedDigits += 1; dottedDigits += 1 }
                }
                if upperRun >= 2 {
                    digitsAfterUpper += 1
                    if digitsAfterUpper == 2 { ibanLead = true }
                }
            } else {
                run = 0
                switch byte {
                case UInt8(ascii: "@"): at = true
                case UInt8(ascii: ":"): colons += 1
                case UInt8(ascii: "."): dots += 1
                case UInt8(ascii: "="): equals = true
                default: break
                }
            }
            if byte >= 65 && byte <= 90 {
                upperRun += 1
                digitsAfterUpper = 0
            } else if !isDigit {
                upperRun = 0
                digitsAfterUpper = 0
            }
            beforePrevious = previous
            previous = byte
        }
    }

    /// True when the text contains `needle` (ASCII, compared case-insensitively), without allocating.
    func contains(caseInsensitive needle: StaticString) -> Bool {
        let pattern = UnsafeBufferPointer(start: needle.utf8Start, count: needle.utf8CodeUnitCount)
        if let found = text.utf8.withContiguousStorageIfAvailable({ Self.search(pattern, in: $0) }) {
            return found
        }
        return Self.search(pattern, in: Array(text.utf8).withUnsafeBufferPointer { $0 })
    }

    /// True when the text contains any of `needles` (ASCII, case-insensitive) — one pass over the text.
    func containsAny(caseInsensitive needles: [StaticString]) -> Bool {
        let patterns = needles.map { UnsafeBufferPointer(start: $0.utf8Start, count: $0.utf8CodeUnitCount) }
        var firsts = [Bool](repeating: false, count: 256)
        for pattern in patterns where !pattern.isEmpty { firsts[Int(pattern[0] | 0x20)] = true }
        let scan: (UnsafeBufferPointer<UInt8>) -> Bool = { haystack in
            for index in haystack.indices where firsts[Int(haystack[index] | 0x20)] {
                for pattern in patterns where pattern[0] | 0x20 == haystack[index] | 0x20 && index + pattern.count <= haystack.count {
                    var matched = 1
                    while matched < pattern.count && haystack[index + matched] | 0x20 == pattern[matched] | 0x20 { matched += 1 }
                    if matched == pattern.count { return true }
                }
            }
            return false
        }
        if let found = text.utf8.withContiguousStorageIfAvailable(scan) { return found }
        return Array(text.utf8).withUnsafeBufferPointer(scan)
    }

    private static func search(_ pattern: UnsafeBufferPointer<UInt8>, in haystack: UnsafeBufferPointer<UInt8>) -> Bool {
        let count = pattern.count
        guard count > 0 else { return true }
        guard haystack.count >= count else { return false }
        let first = pattern[0] | 0x20
        var index = 0
        let last = haystack.count - count
        while index <= last {
            if haystack[index] | 0x20 == first {
                var matched = 1
                while matched < count && haystack[index + matched] | 0x20 == pattern[matched] | 0x20 { matched += 1 }
                if matched == count { return true }
            }
            index += 1
        }
        return false
    }
}
