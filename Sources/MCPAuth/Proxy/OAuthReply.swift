import Foundation
import JSONCore

/// An HTTP answer of the authorization-server endpoints, independent of the HTTP framework.
struct OAuthReply: Error, Sendable {
    var status: Int
    var headers: [(String, String)]
    var body: Data

    /// A JSON answer, never cached (RFC 6749 §5.1).
    static func json(_ status: Int, _ value: JSONValue, headers: [(String, String)] = []) -> OAuthReply {
        OAuthReply(
            status: status, headers: [("Content-Type", "application/json"), ("Cache-Control", "no-store"), ("Pragma", "no-cache")] + headers,
            body: Data(JSONCoding.serialize(value).utf8))
    }

    /// An OAuth error answer (`{"error": …, "error_description": …}`).
    static func error(_ status: Int, _ code: String, _ description: String, headers: [(String, String)] = []) -> OAuthReply {
        json(status, ["error": .string(code), "error_description": .string(description)], headers: headers)
    }

    /// A 302 to `location`.
    static func redirect(_ location: String, headers: [(String, String)] = []) -> OAuthReply {
        OAuthReply(status: 302, headers: [("Location", location), ("Cache-Control", "no-store")] + headers, body: Data())
    }

    /// A 302 back to the client's redirect URI with response parameters.
    static func redirect(to redirectURI: String, _ parameters: [(String, String?)]) -> OAuthReply {
        let query = FormEncoding.encode(parameters.compactMap { pair in pair.1.map { (pair.0, $0) } })
        return redirect(redirectURI + (redirectURI.contains("?") ? "&" : "?") + query)
    }

    /// An HTML page (consent, errors shown to the user instead of redirecting to an unverified URI).
    static func page(_ status: Int, _ html: String, headers: [(String, String)] = []) -> OAuthReply {
        OAuthReply(
            status: status,
            headers: [
                ("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store"),
                ("X-Frame-Options", "DENY"), ("Referrer-Policy", "no-referrer"),
                ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"),
            ] + headers,
            body: Data(html.utf8))
    }
}
