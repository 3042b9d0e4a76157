import Foundation
import Synchronization

/// Redacts personal data and secrets from text before it leaves the process (log lines, span
/// attributes and events).
///
/// Rules run in order over the text; each match that passes the rule's validator is replaced by
/// `[REDACTED:<kind>]`. Metadata and attribute *keys* named like credentials
/// (`password`, `secret`, `token`, `authorization`, `api_key`, `cookie`, …) have their whole value
/// replaced, whatever it looks like. The scrubber is immutable and `Sendable`; share one instance.
public struct PIIScrubber: Sendable {
    /// The rules in application order.
    public let rules: [ScrubRule]

    /// A scrubber with the built-in rules, minus `disabled`, plus `extra` (which run last).
    /// - Throws: `ScrubRuleError.unknownRule` when `disabled` names a rule that does not exist.
    public init(disabled: Set<String> = [], extra: [ScrubRule] = []) throws {
        let known = BuiltinScrubRules.names
        for name in disabled where !known.contains(name) {
            throw ScrubRuleError.unknownRule(name, known: known)
        }
        self.rules = BuiltinScrubRules.all.filter { !disabled.contains($0.kind) } + extra
    }

    /// A scrubber with exactly `rules`.
    public init(rules: [ScrubRule]) {
        self.rules = rules
    }

    /// The default scrubber (all built-in rules).
    public static let standard: PIIScrubber = PIIScrubber(rules: BuiltinScrubRules.all)

    /// Returns `text` with every detected item replaced by its marker.
    public func scrub(_ text: String) -> String {
        if text.isEmpty { return text }
        let shape = TextShape(text)
        var current = text
        for rule in rules where rule.trigger(shape) {
            current = apply(rule, to: current)
        }
        return current
    }

    /// Scrubs a value stored under `key`: credential-like keys lose the whole value.
    public func scrub(value: String, forKey key: String) -> String {
        if let kind = Self.sensitiveKeyKind(key) {
            return "[REDACTED:\(kind)]"
        }
        return scrub(value)
    }

    /// The redaction kind for a credential-like key, or nil. Matches on the key's words, so
    /// `db_password`, `X-Api-Key`, `Set-Cookie` and `refreshToken` are caught while
    /// `token_count` is too (counting tokens is rare in our metadata; over-redaction is the safe side).
    public static func sensitiveKeyKind(_ key: String) -> String? {
        if let cached = keyCache.withLock({ $0[key] }) { return cached }
        let kind = classifyKey(key)
        keyCache.withLock { cache in
            if cache.count >= 512 { cache.removeAll(keepingCapacity: true) }  // bounded: keys are a small set
            cache[key] = kind
        }
        return kind
    }

    /// Classification results per key; metadata keys repeat, so this saves the scans.
    private static let keyCache = Mutex<[String: String?]>([:])

    private static func classifyKey(_ key: String) -> String? {
        let shape = TextShape(key)
        if shape.contains(caseInsensitive: "password") || shape.contains(caseInsensitive: "passwd") { return "password" }
        if shape.contains(caseInsensitive: "secret") { return "secret" }
        if shape.contains(caseInsensitive: "authorization") { return "authorization" }
        if shape.contains(caseInsensitive: "cookie") { return "cookie" }
        if shape.contains(caseInsensitive: "apikey") || shape.contains(caseInsensitive: "api_key")
            || shape.contains(caseInsensitive: "api-key") { return "api_key" }
        if shape.contains(caseInsensitive: "token") { return "token" }
        if key.utf8.count == 11 && shape.contains(caseInsensitive: "x-qlik-user") { return "qlik_user" }
        return nil
    }

    private func apply(_ rule: ScrubRule, to text: String) -> String {
        let ns = text as NSString
        let matches = rule.regex.matches(in: text, range: NSRange(location: 0, length: ns.length))
        if matches.isEmpty { return text }
        var result = ""
        result.reserveCapacity(text.utf8.count)
        var cursor = 0
        var changed = false
        for match in matches {
            let whole = match.range
            let target = match.range(at: rule.group)
            guard target.location != NSNotFound,
                  let candidateRange = Range(whole, in: text) else { continue }
            guard rule.validate(text[candidateRange]) else { continue }
            result += ns.substring(with: NSRange(location: cursor, length: target.location - cursor))
            result += rule.marker
            cursor = target.location + target.length
            changed = true
        }
        guard changed else { return text }
        result += ns.substring(from: cursor)
        return result
    }
}
