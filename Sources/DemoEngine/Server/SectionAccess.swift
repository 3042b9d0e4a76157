/// A section-access-like data reduction for the demo engine: per Qlik user (`DIRECTORY\user`, or
/// the raw `X-Qlik-User` value), the values of a field that user may see in every app that has
/// the field. Rows with other values do not exist for that user: they are left out of every
/// calculation, as Qlik's section access reduces an app when a user opens it. Users without a
/// rule see everything. For tests of per-user isolation (caches must never mix users' rows).
public struct SectionAccess: Sendable, Equatable {
    /// user → field → allowed values (texts).
    public var rules: [String: [String: Set<String>]]

    public init(rules: [String: [String: Set<String>]] = [:]) {
        self.rules = rules
    }

    /// Parses `USER=FIELD:V1|V2` (the `demo-engine --section-access` syntax); several rules for
    /// one user add up.
    public mutating func add(_ rule: String) throws(SectionAccessError) {
        guard let equals = rule.firstIndex(of: "="), let colon = rule[equals...].firstIndex(of: ":") else {
            throw SectionAccessError(message: "'\(rule)' is not USER=FIELD:VALUE1|VALUE2")
        }
        let user = String(rule[..<equals]).trimmingCharacters(in: .whitespaces)
        let field = String(rule[rule.index(after: equals)..<colon]).trimmingCharacters(in: .whitespaces)
        let values = rule[rule.index(after: colon)...].split(separator: "|").map(String.init)
        guard !user.isEmpty, !field.isEmpty, !values.isEmpty else { throw SectionAccessError(message: "'\(rule)' needs a user, a field and at least one value") }
        rules[user, default: [:]][field, default: []].formUnion(values)
    }

    /// The rules of the user an `X-Qlik-User` header names (`UserDirectory=D; UserId=U` → `D\U`).
    func rules(forHeader header: String) -> [String: Set<String>]? {
        rules[Self.user(fromHeader: header)] ?? rules[header]
    }

    static func user(fromHeader header: String) -> String {
        var directory: String?
        var user: String?
        for part in header.split(separator: ";") {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2 else { continue }
            if pair[0].caseInsensitiveCompare("UserDirectory") == .orderedSame { directory = pair[1] }
            if pair[0].caseInsensitiveCompare("UserId") == .orderedSame { user = pair[1] }
        }
        guard let directory, let user else { return header }
        return directory + "\\" + user
    }
}

/// A section access rule that could not be parsed.
public struct SectionAccessError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { message }
}
