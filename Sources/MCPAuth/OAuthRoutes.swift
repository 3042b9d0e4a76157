import Foundation
import HTTPTypes
import Hummingbird
import JSONCore
import NIOCore

/// The OAuth routes of the HTTP host: Protected Resource Metadata (RFC 9728) always when auth is
/// on, and in proxy mode the authorization server's metadata, JWKS, registration, authorization,
/// consent, callback and token endpoints under `/oauth`.
public struct OAuthRoutes: Sendable {
    let auth: HTTPAuth

    public init(auth: HTTPAuth) {
        self.auth = auth
    }

    public func register<Context: RequestContext>(on router: Router<Context>) {
        let metadata = auth.protectedResourceMetadata
        for path in ["/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp"] {
            router.get(RouterPath(path)) { _, _ in Self.response(.json(200, metadata, headers: Self.publicCORS)) }
            router.on(RouterPath(path), method: .options) { _, _ in Self.preflight() }
        }
        guard let proxy = auth.proxy else { return }
        let asMetadata = proxy.metadata
        // RFC 8414 §3.1 path insertion for the issuer `<publicURL>/oauth`, and the root form some clients try first.
        for path in ["/.well-known/oauth-authorization-server/oauth", "/.well-known/oauth-authorization-server"] {
            router.get(RouterPath(path)) { _, _ in Self.response(.json(200, asMetadata, headers: Self.publicCORS)) }
            router.on(RouterPath(path), method: .options) { _, _ in Self.preflight() }
        }
        let jwks = proxy.tokens.jwks
        router.get("/oauth/jwks") { _, _ in Self.response(.json(200, jwks, headers: Self.publicCORS)) }
        router.post("/oauth/register") { request, _ in
            Self.response(await proxy.register(try await Self.body(request)), cors: true)
        }
        router.get("/oauth/authorize") { request, _ in
            let query = FormEncoding.decode(request.uri.query ?? "")
            if let name = query.repeated.first {
                return Self.response(.page(400, ConsentPage.error("Invalid request", "The parameter \(name) is repeated.")))
            }
            return Self.response(await proxy.authorize(query.values))
        }
        router.post("/oauth/consent") { request, _ in
            let form = FormEncoding.decode(String(decoding: try await Self.body(request), as: UTF8.self))
            return Self.response(await proxy.consent(form: form.values, cookie: Self.cookie(OAuthProxy.bindingCookie, in: request)))
        }
        router.get("/oauth/callback") { request, _ in
            Self.response(await proxy.callback(FormEncoding.decode(request.uri.query ?? "").values))
        }
        router.post("/oauth/token") { request, _ in
            guard request.headers[.contentType]?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true else {
                return Self.response(.error(400, "invalid_request", "send the token request as application/x-www-form-urlencoded"), cors: true)
            }
            let form = FormEncoding.decode(String(decoding: try await Self.body(request), as: UTF8.self))
            return Self.response(await proxy.token(form: form.values, repeated: form.repeated, basic: Self.basicCredentials(request)), cors: true)
        }
        for path in ["/oauth/register", "/oauth/token", "/oauth/jwks"] {
            router.on(RouterPath(path), method: .options) { _, _ in Self.preflight() }
        }
    }

    /// Metadata and token endpoints are meant for any origin (browser-based MCP clients); they
    /// carry no ambient credentials (no cookies are read there), so `*` is safe.
    static let publicCORS: [(String, String)] = [("Access-Control-Allow-Origin", "*")]

    static func preflight() -> Response {
        var fields = HTTPFields()
        fields[.accessControlAllowOrigin] = "*"
        fields[.accessControlAllowMethods] = "GET, POST, OPTIONS"
        fields[.accessControlAllowHeaders] = "Authorization, Content-Type, MCP-Protocol-Version"
        fields[.accessControlMaxAge] = "600"
        return Response(status: .noContent, headers: fields)
    }

    static func body(_ request: Request) async throws -> Data {
        var request = request
        do {
            return Data(buffer: try await request.collectBody(upTo: 64 * 1024))
        } catch is NIOTooManyBytesError {
            throw HTTPError(.contentTooLarge, message: "OAuth requests are limited to 64 KiB")
        }
    }

    static func cookie(_ name: String, in request: Request) -> String? {
        for header in request.headers[values: .cookie] {
            for part in header.split(separator: ";") {
                let pair = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
                if pair.count == 2, pair[0] == name { return String(pair[1]) }
            }
        }
        return nil
    }

    /// `Authorization: Basic` client credentials (RFC 6749 §2.3.1: each part form-encoded).
    static func basicCredentials(_ request: Request) -> (id: String, secret: String)? {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("basic "),
            let data = Data(base64Encoded: String(header.dropFirst(6)).trimmingCharacters(in: .whitespaces))
        else { return nil }
        let text = String(decoding: data, as: UTF8.self)
        guard let colon = text.firstIndex(of: ":") else { return nil }
        return (FormEncoding.unescape(String(text[..<colon])), FormEncoding.unescape(String(text[text.index(after: colon)...])))
    }

    static func response(_ reply: OAuthReply, cors: Bool = false) -> Response {
        var fields = HTTPFields()
        for (name, value) in reply.headers + (cors ? publicCORS : []) {
            if let field = HTTPField.Name(name) { fields.append(HTTPField(name: field, value: value)) }
        }
        return Response(status: .init(code: reply.status), headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: reply.body)))
    }
}
