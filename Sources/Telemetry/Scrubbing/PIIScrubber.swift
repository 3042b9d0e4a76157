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
    /// Results for short texts seen before (span names, paths, user agents repeat), when memoized.
    private var memo: ScrubMemo?

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

    /// This scrubber remembering its results for short texts (at most 4,096 of up to 128 bytes,
    /// forgotten all at once when full): for the span processor, whose names and attribute
    /// values repeat from span to span.
    public func memoized() -> PIIScrubber {
        var copy = self
        copy.memo = ScrubMemo()
        return copy
    }

    /// Returns `text` with every detected item replaced by its marker.
    public func scrub(_ text: String) -> String {
        if text.isEmpty { return text }
        if let memo, text.utf8.count <= ScrubMemo.maxLength {
            if let known = memo.lookup(text) { return known }
            let result = scrubWithRules(text)
            memo.store(text, result)
            return result
        }
        return scrubWithRules(text)
    }

    private func scrubWithRules(_ text: String) -> String {
        let shape = TextShape(text)
        var current = text
        for rule in rules where rule.trigger(shape) {
            current = apply(rule, to: current)
        }
        return current
    }

    /// Scrubs a value stored under `key`: credential-like keys lose the whole value; values of
    /// `serverProducedKeys` pass unchanged.
    public func scrub(value: String, forKey key: String) -> String {
        if Self.serverProducedKeys.contains(key) { return value }
        if let kind = Self.sensitiveKeyKind(key) {
            return "[REDACTED:\(kind)]"
        }
        return scrub(value)
    }

    /// Attributes whose values the server itself produces from bounded sets (method names,
    /// canonical tool names, generated ids, status codes, outcomes): no rule can match what they
    /// may hold, so they skip the rules, which cost microseconds per value and run several times
    /// per request. Anything a client can write (`jsonrpc.request.id`, `url.path`, `url.query`,
    /// `user_agent.original`, `mcp.resource.uri`, `gen_ai.prompt.name`, messages) is still scrubbed.
    public static let serverProducedKeys: Set<String> = [
        "mcp.method.name", "mcp.session.id", "mcp.protocol.version", "network.transport", "gen_ai.tool.name", "gen_ai.operation.name",
        "error.type", "enduser.pseudo.id", "http.request.method", "http.route", "http.response.status_code", "qlik_mcp.toolset",
        "qlik_mcp.outcome", "qlik_mcp.error.code", "qlik_mcp.error.category", "qix.method", "qix.handle", "rpc.method", "rpc.system",
        "trace_id", "span_id",
    ]

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
            || shape.contains(caseInsensitive: "api-key")
        {
            return "api_key"
        }
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
                let candidateRange = Range(whole, in: text)
            else { continue }
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

/// The bounded memo of a memoized `PIIScrubber`.
final class ScrubMemo: Sendable {
    static let maxLength = 128
    static let capacity = 4_096
    private let results = Mutex<[String: String]>([:])

    func lookup(_ text: String) -> String? { results.withLock { $0[text] } }

    func store(_ text: String, _ result: String) {
        results.withLock { results in
            if results.count >= Self.capacity { results.removeAll(keepingCapacity: true) }
            results[text] = result
        }
    }
}
