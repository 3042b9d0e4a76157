import Testing
import Tracing

@testable import Telemetry

/// The PII canaries: each input with its exact scrubbed output. Near-misses must come back unchanged.
let piiCanaries: [(input: String, expected: String)] = [
    // e-mail
    ("contact jane.doe@example.com now", "contact [REDACTED:email] now"),
    ("a+tag@sub.example.co.uk,b@x.io", "[REDACTED:email],[REDACTED:email]"),
    ("user@localhost is not an address", "user@localhost is not an address"),
    ("@mention and foo@ bar", "@mention and foo@ bar"),
    // phone
    ("call +1 415-555-0132 today", "call [REDACTED:phone] today"),
    ("uk +44 20 7946 0958", "uk [REDACTED:phone]"),
    ("office (415) 555-0132", "office [REDACTED:phone]"),
    ("us 415.555.0132 ok", "us [REDACTED:phone] ok"),
    ("date 2026-11-25 12:49:08", "date 2026-11-25 12:49:08"),
    ("version 1.2.3 build 20261125", "version 1.2.3 build 20261125"),
    // payment cards (Luhn)
    ("card 4111 1111 1111 1111 exp", "card [REDACTED:card] exp"),
    ("mc 5500-0000-0000-0004", "mc [REDACTED:card]"),
    ("amex 378282246310005", "amex [REDACTED:card]"),
    ("order 4111111111111112 shipped", "order 4111111111111112 shipped"),
    ("order 1234567890123 shipped", "order 1234567890123 shipped"),
    // IBAN (mod 97)
    ("pay to DE89 3704 0044 0532 0130 00 please", "pay to [REDACTED:iban] please"),
    ("GB82WEST12345698765432", "[REDACTED:iban]"),
    ("DE89 3704 0044 0532 0130 01", "DE89 3704 0044 0532 0130 01"),
    // IPv4
    ("from 192.168.1.20 via 10.0.0.1", "from [REDACTED:ipv4] via [REDACTED:ipv4]"),
    ("listening on 127.0.0.1:8080", "listening on 127.0.0.1:8080"),
    ("not an ip 999.1.1.1 or 1.2.3", "not an ip 999.1.1.1 or 1.2.3"),
    // IPv6
    ("peer 2001:db8::8a2e:370:7334 closed", "peer [REDACTED:ipv6] closed"),
    ("peer fe80::1ff:fe23:4567:890a", "peer [REDACTED:ipv6]"),
    ("loopback ::1 and std::vector at 12:30:00", "loopback ::1 and std::vector at 12:30:00"),
    // JWT and bearer tokens
    ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.sig_abc-123 end", "jwt [REDACTED:jwt] end"),
    ("Authorization: Bearer abc.def-ghi_jkl~mno", "Authorization: Bearer [REDACTED:bearer_token]"),
    ("authorization=Basic dXNlcjpwYXNz", "authorization=Basic [REDACTED:secret]"),
    ("sent bearer 0123456789abcdef to qlik", "sent bearer [REDACTED:bearer_token] to qlik"),
    ("the bearer of bad news", "the bearer of bad news"),
    // credentials in text
    ("password=hunter2&user=x", "password=[REDACTED:secret]&user=x"),
    (#"{"api_key": "k-123456"}"#, #"{"api_key": "[REDACTED:secret]"}"#),
    ("token: abc123", "token: [REDACTED:secret]"),
    ("tokens counted: 42", "tokens counted: 42"),
    // X-Qlik-User
    ("X-Qlik-User: UserDirectory=CORP; UserId=jdoe", "X-Qlik-User: UserDirectory=CORP; UserId=[REDACTED:qlik_user]"),
    ("UserDirectory=INTERNAL; UserId = sa_repository", "UserDirectory=INTERNAL; UserId = [REDACTED:qlik_user]"),
    // nothing to find
    ("Sum(Sales) over 100000 rows in 12.5 ms", "Sum(Sales) over 100000 rows in 12.5 ms"),
    ("", ""),
    ("héllo wörld ✓ 123", "héllo wörld ✓ 123"),
]

@Suite("PII scrubbing")
struct PIICanaryTests {
    @Test("canary table has at least 30 cases")
    func tableSize() {
        #expect(piiCanaries.count >= 30)
    }

    @Test("scrubs text exactly", arguments: piiCanaries)
    func scrubsText(input: String, expected: String) {
        #expect(PIIScrubber.standard.scrub(input) == expected)
    }

    @Test("scrubs span attributes exactly", arguments: piiCanaries)
    func scrubsSpanAttributes(input: String, expected: String) {
        let collector = InMemorySpanProcessor()
        let tracer = QlikTracer(sampler: .alwaysOn, processor: collector)
        tracer.withSpan("canary") { span in
            span.attributes["canary"] = input
            span.attributes["canary.list"] = SpanAttribute.stringArray([input, "plain"])
            span.addEvent(SpanEvent(name: "canary.event", attributes: ["canary": .string(input)]))
        }
        let record = try! #require(collector.spans.first).scrubbed(with: .standard)
        #expect(record.attributes.get("canary") == .string(expected))
        #expect(record.attributes.get("canary.list") == .stringArray([expected, "plain"]))
        #expect(record.events.first?.attributes.get("canary") == .string(expected))
    }

    @Test("values the server produces skip the scrubber; values a client can write do not")
    func serverProducedKeys() throws {
        let collector = InMemorySpanProcessor()
        let tracer = QlikTracer(sampler: .alwaysOn, processor: collector)
        let session = "4111-1111-1111-1111"  // would be a card number anywhere else
        tracer.withSpan("tools/call") { span in
            span.attributes["mcp.session.id"] = session
            span.attributes["jsonrpc.request.id"] = "jane@example.com"
            span.attributes["url.query"] = "sessionId=4111 1111 1111 1111"
        }
        let record = try #require(collector.spans.first).scrubbed(with: .standard)
        #expect(record.attributes.get("mcp.session.id") == .string(session))
        #expect(record.attributes.get("jsonrpc.request.id") == .string("[REDACTED:email]"))
        #expect(record.attributes.get("url.query") != .string("sessionId=4111 1111 1111 1111"))
    }

    @Test(
        "credential-named keys lose the whole value",
        arguments: [
            ("password", "password"), ("db_password", "password"), ("client_secret", "secret"),
            ("Authorization", "authorization"), ("X-Api-Key", "api_key"), ("api_key", "api_key"),
            ("Set-Cookie", "cookie"), ("refreshToken", "token"), ("X-Qlik-User", "qlik_user"),
        ])
    func sensitiveKeys(key: String, kind: String) {
        #expect(PIIScrubber.standard.scrub(value: "anything at all", forKey: key) == "[REDACTED:\(kind)]")
    }

    @Test("ordinary keys keep their (scrubbed) value")
    func ordinaryKeys() {
        #expect(PIIScrubber.standard.scrub(value: "rows=42", forKey: "result") == "rows=42")
        #expect(PIIScrubber.standard.scrub(value: "mail a@b.com", forKey: "note") == "mail [REDACTED:email]")
    }

    @Test("a rule can be disabled")
    func disableRule() throws {
        let scrubber = try PIIScrubber(disabled: ["ipv4"])
        #expect(scrubber.scrub("from 192.168.1.20, a@b.com") == "from 192.168.1.20, [REDACTED:email]")
    }

    @Test("a regex rule can be added")
    func addRule() throws {
        let scrubber = try PIIScrubber(extra: [ScrubRule(kind: "employee_id", pattern: #"\bEMP-\d{6}\b"#)])
        #expect(scrubber.scrub("EMP-123456 and EMP-12") == "[REDACTED:employee_id] and EMP-12")
    }

    @Test("bad configuration is refused with a message that says what to fix")
    func badConfiguration() {
        #expect(throws: ScrubRuleError.self) { try PIIScrubber(disabled: ["ipv5"]) }
        do {
            _ = try PIIScrubber(disabled: ["ipv5"])
        } catch {
            #expect("\(error)".contains("known rules: bearer_token"))
        }
        #expect(throws: ScrubRuleError.self) { try ScrubRule(kind: "x", pattern: "(unclosed") }
        #expect(throws: ScrubRuleError.self) { try ScrubRule(kind: "bad kind!", pattern: "x") }
        #expect(throws: ScrubRuleError.self) { try ScrubRule(kind: "x", pattern: "a", group: 2) }
    }

    @Test("configuration from the environment")
    func environment() throws {
        var config = try TelemetryConfiguration.fromEnvironment([
            "QLIK_MCP_SCRUB_DISABLE": "ipv4, ipv6",
            "QLIK_MCP_SCRUB_EXTRA_RULES": #"{"ticket":"TCK-\\d+"}"#,
        ])
        let scrubber = try config.makeScrubber()
        #expect(scrubber.scrub("10.0.0.1 TCK-991") == "10.0.0.1 [REDACTED:ticket]")
        config.extraScrubRules = ["x": "("]
        #expect(throws: ScrubRuleError.self) { try config.makeScrubber() }
        #expect(throws: TelemetryConfigurationError.self) {
            try TelemetryConfiguration.fromEnvironment(["QLIK_MCP_SCRUB_EXTRA_RULES": "not json"])
        }
    }
}
