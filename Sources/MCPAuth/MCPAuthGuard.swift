import Foundation
import HTTPTypes
import Hummingbird
import JSONCore
import NIOCore
import QlikTools

/// Authentication and authorization of the MCP endpoints (`/mcp`, `/sse`, `/messages`):
/// 401 with a `WWW-Authenticate` challenge that names the Protected Resource Metadata, 403
/// `insufficient_scope` naming the scopes to ask for (step-up), and audit lines for refusals.
public struct MCPAuthGuard: Sendable {
    public let auth: HTTPAuth
    let telemetry: AuthTelemetry

    public init(auth: HTTPAuth, telemetry: AuthTelemetry = .shared) {
        self.auth = auth
        self.telemetry = telemetry
    }

    /// The caller, or the refusal to send.
    public func authenticate(_ request: Request, route: String) async -> Result<Principal, HTTPRefusal> {
        let query = FormEncoding.decode(request.uri.query ?? "").values
        let result = await auth.authenticator.authenticate(authorization: request.headers[.authorization], queryToken: query["access_token"] != nil)
        switch result {
        case .success(let principal): return .success(principal)
        case .failure(let failure):
            let method = request.headers[.authorization].flatMap { BearerAuthenticator.bearerToken($0) }.map { $0.hasPrefix("qmcp_") ? "apikey" : "oauth" } ?? "none"
            return .failure(HTTPRefusal(response: refuse(failure, method: method, route: route, principal: nil)))
        }
    }

    /// A 403 step-up when `message` is a `tools/call` of a tool outside the caller's scopes.
    public func authorize(_ message: JSONValue, principal: Principal, route: String, canonicalName: (String) -> String?) -> Response? {
        let method = message["method"]?.stringValue ?? ""
        let needed: QlikScope
        let name: String
        if method == "tools/call", let tool = message["params"]?["name"]?.stringValue {
            // Deprecated aliases need their tool's scope. A name that is no tool passes to the server,
            // which answers "unknown tool" — a step-up would send the client to ask for scopes in vain.
            guard let scope = ToolScopes.required(for: canonicalName(tool) ?? tool) else { return nil }
            needed = scope
            name = "the tool \(tool.prefix(64))"
        } else if method.hasPrefix("resources/") {
            needed = .read  // resources are app metadata (scripts, data models)
            name = method
        } else {
            return nil
        }
        guard !principal.allows(needed) else { return nil }
        telemetry.attempt(method: principal.method.rawValue, outcome: "insufficient_scope")
        let failure = AuthFailure.insufficientScope(
            needed: principal.scopes.union([needed]),
            description: "\(name) needs the scope \(needed.rawValue)")
        return refuse(failure, method: principal.method.rawValue, route: route, principal: principal)
    }

    func refuse(_ failure: AuthFailure, method: String, route: String, principal: Principal?) -> Response {
        telemetry.denied(failure, method: method, route: route, principal: principal)
        var fields = HTTPFields()
        fields[.wwwAuthenticate] = failure.challenge(resourceMetadata: auth.resourceMetadataURL, defaultScopes: auth.defaultScopes)
        fields[.contentType] = "application/json"
        fields[.cacheControl] = "no-store"
        if case .unavailable = failure { fields[.retryAfter] = "5" }
        let code =
            switch failure {
            case .missing: "unauthorized"
            case .invalidRequest: "invalid_request"
            case .invalidToken: "invalid_token"
            case .insufficientScope: "insufficient_scope"
            case .unavailable: "temporarily_unavailable"
            }
        let body: JSONValue = ["error": .string(code), "error_description": .string(failure.description)]
        return Response(status: .init(code: failure.status), headers: fields, body: .init(byteBuffer: ByteBuffer(string: JSONCoding.serialize(body))))
    }
}

/// A refusal already rendered as the HTTP response to send.
public struct HTTPRefusal: Error {
    public let response: Response
}
