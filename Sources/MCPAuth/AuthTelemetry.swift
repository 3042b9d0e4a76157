import Foundation
import Logging
import Metrics
import Synchronization

/// `qlik_mcp_auth_attempts_total{method,outcome}` and the audit log (`qlik-mcp.audit`): one line per
/// refused request and per OAuth grant, naming users only by pseudonym.
public final class AuthTelemetry: Sendable {
    public static let shared = AuthTelemetry()

    /// The outcomes a series can have; anything else is counted as `other`.
    public static let outcomes: Set<String> = [
        "ok", "missing", "malformed", "expired", "not_yet_valid", "bad_signature", "wrong_issuer", "wrong_audience",
        "unknown_key", "alg_not_allowed", "revoked", "unknown_api_key", "inactive", "insufficient_scope", "token_in_query",
        "method_not_accepted", "key_source_unavailable", "session_owner_mismatch",
    ]
    static let methods: Set<String> = ["oauth", "apikey", "none"]

    private let counters = Mutex<[String: Counter]>([:])
    let audit = Logger(label: "qlik-mcp.audit")
    /// Refusal lines per second at most; the rest are counted and reported with the next line,
    /// so a flood of unauthenticated requests cannot flood the log.
    let maxRefusalLinesPerSecond: Int
    private let budget = Mutex((second: 0, used: 0, suppressed: 0))

    init(maxRefusalLinesPerSecond: Int = 50) {
        self.maxRefusalLinesPerSecond = maxRefusalLinesPerSecond
    }

    /// Creates the zero-valued series operators alert on, so rates exist before the first failure.
    public func preregister() {
        for method in ["oauth", "apikey"] {
            for outcome in ["ok", "expired", "bad_signature", "wrong_audience", "insufficient_scope", "revoked"] { counter(method, outcome).increment(by: 0) }
        }
        counter("none", "missing").increment(by: 0)
    }

    public func attempt(method: String, outcome: String) {
        counter(method, outcome).increment()
    }

    private func counter(_ method: String, _ outcome: String) -> Counter {
        let method = Self.methods.contains(method) ? method : "none"
        let outcome = Self.outcomes.contains(outcome) ? outcome : "other"
        let key = method + "|" + outcome
        return counters.withLock { cache in
            if let counter = cache[key] { return counter }
            let counter = Counter(label: "qlik_mcp_auth_attempts_total", dimensions: [("method", method), ("outcome", outcome)])
            cache[key] = counter
            return counter
        }
    }

    /// An audit line for a refused request.
    public func denied(_ failure: AuthFailure, method: String, route: String, principal: Principal?) {
        let now = Int(Date().timeIntervalSince1970)
        let suppressed: Int? = budget.withLock { state in
            if state.second != now { state.second = now; state.used = 0 }
            guard state.used < maxRefusalLinesPerSecond else { state.suppressed += 1; return nil }
            state.used += 1
            defer { state.suppressed = 0 }
            return state.suppressed
        }
        guard let suppressed else { return }
        var metadata: Logger.Metadata = [
            "event.name": "auth.denied", "qlik_mcp.auth.reason": .string(failure.reason), "qlik_mcp.auth.method": .string(method),
            "http.route": .string(route),
        ]
        if let principal {
            metadata["enduser.pseudo.id"] = .string(principal.pseudonym)
            if let client = principal.clientID { metadata["qlik_mcp.oauth.client_id"] = .string(String(client.prefix(80))) }
        }
        if suppressed > 0 { metadata["qlik_mcp.audit.suppressed_before"] = .stringConvertible(suppressed) }
        audit.notice("request refused", metadata: metadata)
    }

    /// An audit line for a grant (consent, code, token, refresh) or its refusal.
    public func grant(_ event: String, outcome: String, clientID: String?, subject: String?, scopes: [String] = [], reason: String? = nil) {
        var metadata: Logger.Metadata = ["event.name": .string(event), "qlik_mcp.outcome": .string(outcome)]
        if let clientID { metadata["qlik_mcp.oauth.client_id"] = .string(String(clientID.prefix(80))) }
        if let subject { metadata["enduser.pseudo.id"] = .string(subject) }
        if !scopes.isEmpty { metadata["qlik_mcp.oauth.scopes"] = .string(scopes.joined(separator: " ")) }
        if let reason { metadata["qlik_mcp.auth.reason"] = .string(reason) }
        audit.notice("oauth \(event)", metadata: metadata)
    }
}
