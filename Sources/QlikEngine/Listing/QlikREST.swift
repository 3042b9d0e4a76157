import AsyncHTTPClient
import Foundation
import JSONCore
import NIOCore
import NIOHTTP1

/// GET requests to the Qlik REST APIs (QRS on Enterprise, the Cloud APIs) with the endpoint's TLS
/// and auth headers, no redirects (credentials never follow one), a timeout and a 64 MiB cap.
struct QlikREST: Sendable {
    let endpoint: QIXEndpoint
    let timeout: Duration

    func get(_ url: String, headers: [(String, String)]) async throws -> JSONValue {
        var configuration = HTTPClient.Configuration()
        configuration.tlsConfiguration = try endpoint.tlsConfiguration()
        configuration.redirectConfiguration = .disallow
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        defer { _ = client.shutdown() }
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Accept", value: "application/json")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: .seconds(Int64(timeout.components.seconds)))
        } catch {
            throw QIXClientError.connectionFailed(url: url.components(separatedBy: "?").first ?? url, reason: QIXConnection.describe(error))
        }
        let body = try await response.body.collect(upTo: 64 << 20)
        let text = String(buffer: body)
        guard (200..<300).contains(Int(response.status.code)) else {
            throw QIXClientError.http(status: Int(response.status.code), url: url.components(separatedBy: "?").first ?? url, message: String(text.prefix(300)))
        }
        do {
            return try JSONCoding.parse(text)
        } catch {
            throw QIXClientError.protocolViolation("\(url.components(separatedBy: "?").first ?? url) did not return JSON: \(error)")
        }
    }
}
