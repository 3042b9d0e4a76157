import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The rules qlik-mcp applies by default, in the order they run.
///
/// Order matters: credentials first (so `Bearer eyJ…` becomes one bearer marker, not a JWT
/// marker), then checksum-validated numbers (cards, IBANs) before phone numbers, and IP
/// addresses last. Loopback and unspecified addresses (127.0.0.0/8, 0.0.0.0, ::1, ::) identify no
/// one and are kept, so local endpoints stay readable in diagnostics.
public enum BuiltinScrubRules {
    /// Names of every built-in rule, in application order.
    public static let names = all.map(\.kind)

    /// All built-in rules. Built once; the patterns are constants, so failure is a programming error.
    public static let all: [ScrubRule] = {
        do {
            return try [
                ScrubRule(
                    kind: "bearer_token",
                    pattern: #"\b[Bb]earer\s+([A-Za-z0-9\-._~+/]{8,}=*)"#, group: 1,
                    trigger: { $0.contains(caseInsensitive: "earer") }
                ),
                ScrubRule(
                    kind: "jwt",
                    pattern: #"\beyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"#,
                    trigger: { $0.dots >= 2 && $0.contains(caseInsensitive: "eyJ") }
                ),
                ScrubRule(
                    kind: "secret",
                    pattern:
                        #"(?i)\b(?:password|passwd|pwd|secret|client_secret|token|access_token|refresh_token|api[_-]?key|apikey|authorization|cookie|set-cookie)\b["']?\s*[:=]\s*["']?(?:(?:Bearer|Basic|Negotiate|Token)\s+)?+(?!\[REDACTED:)([^\s"',;&]+)"#,
                    group: 1,
                    trigger: { shape in
                        (shape.colons > 0 || shape.equals)
                            && shape.containsAny(caseInsensitive: ["pass", "pwd", "secret", "token", "key", "auth", "cookie"])
                    }
                ),
                ScrubRule(
                    kind: "qlik_user",
                    pattern: #"(?i)\bUserId\s*=\s*([^;\s"',]+)"#, group: 1,
                    trigger: { $0.equals && $0.contains(caseInsensitive: "userid") }
                ),
                ScrubRule(
                    kind: "email",
                    pattern: #"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b"#,
                    trigger: { $0.at }
                ),
                ScrubRule(
                    kind: "card",
                    pattern: #"(?<![\d.-])\d(?:[ -]?\d){12,18}(?![\d.])"#,
                    trigger: { $0.digits >= 13 },
                    validate: Checksums.luhnValid
                ),
                ScrubRule(
                    kind: "iban",
                    pattern: #"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b"#,
                    trigger: { $0.ibanLead && $0.digits >= 8 },
                    validate: Checksums.ibanValid
                ),
                ScrubRule(
                    kind: "phone",
                    pattern: #"(?<![\w+])(?:\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){1,4}|\(\d{3}\) ?\d{3}[ .-]\d{4}|\d{3}[.-]\d{3}[.-]\d{4})(?![\w.])"#,
                    trigger: { $0.digits >= 9 && ($0.phoneLead || $0.separatedDigits >= 2) },
                    validate: { Checksums.digitCount($0, in: 9...15) }
                ),
                ScrubRule(
                    kind: "ipv4",
                    pattern: #"(?<![\w.])(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}(?![\w.]*\d)"#,
                    trigger: { $0.dottedDigits >= 3 },
                    validate: { !$0.hasPrefix("127.") && $0 != "0.0.0.0" }
                ),
                ScrubRule(
                    kind: "ipv6",
                    pattern: #"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?![\w:])"#,
                    trigger: { $0.colons >= 2 },
                    validate: isIPv6
                ),
            ]
        } catch {
            fatalError("built-in scrub rule failed to compile: \(error)")
        }
    }()

    /// Accepts only text the C library parses as an IPv6 address, with at least two hex groups,
    /// so that `12:30:00`, `a::` in prose and `std::` stay as they are.
    static func isIPv6(_ candidate: Substring) -> Bool {
        let groups = candidate.split(separator: ":", omittingEmptySubsequences: true)
        guard groups.count >= 2 else { return false }  // also keeps ::1 (loopback)
        var storage = in6_addr()
        return String(candidate).withCString { inet_pton(AF_INET6, $0, &storage) } == 1
    }
}
