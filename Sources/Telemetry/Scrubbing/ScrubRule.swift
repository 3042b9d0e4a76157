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
struct TextShape {
    var digits = 0
    var maxDigitRun = 0
    var at = false
    var colons = 0
    var dots = 0
    var uppercase = 0
    var equals = false

    init(_ text: String) {
        var run = 0
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                digits += 1
                run += 1
                if run > maxDigitRun { maxDigitRun = run }
                continue
            case UInt8(ascii: "@"): at = true
            case UInt8(ascii: ":"): colons += 1
            case UInt8(ascii: "."): dots += 1
            case UInt8(ascii: "="): equals = true
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): uppercase += 1
            default: break
            }
            run = 0
        }
    }
}
