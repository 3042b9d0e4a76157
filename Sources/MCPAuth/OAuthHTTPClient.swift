import AsyncHTTPClient
import Foundation
import JSONCore
import NIOCore
import NIOHTTP1
import Telemetry

/// The outbound HTTP calls of the auth layer (discovery, JWKS, introspection, upstream token and
/// user endpoints): every call has a deadline and a bounded response body, and only `https://`
/// URLs are fetched — plain `http://` only on loopback, for local test identity providers.
public struct OAuthHTTPClient: Sendable {
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    public var timeout: TimeAmount = .seconds(5)
    public var maxResponseBytes = 1 << 20
    private let client: HTTPClient

    public init(client: HTTPClient = OAuthHTTPClient.sharedClient) {
        self.client = client
    }

    /// One client for the process, with redirects refused: a discovery document or key set that
    /// answers with a redirect is an error, never a hop to a host nobody configured.
    public static let sharedClient: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(5))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    /// `GET url`, the answer parsed as JSON. Non-2xx answers are failures.
    public func getJSON(_ url: String, headers: [(String, String)] = []) async throws(Failure) -> JSONValue {
        try await send(url, method: .GET, headers: headers + [("Accept", "application/json")], body: nil).json
    }

    /// `POST url` with a form body; returns the status and the parsed JSON answer (any status).
    public func postForm(_ url: String, form: [(String, String)], headers: [(String, String)] = []) async throws(Failure) -> (status: Int, json: JSONValue) {
        let body = FormEncoding.encode(form)
        let answer = try await send(
            url, method: .POST, headers: headers + [("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json")],
            body: body, acceptAnyStatus: true)
        return (answer.status, answer.json)
    }

    private func send(
        _ url: String, method: HTTPMethod, headers: [(String, String)], body: String?,
        acceptAnyStatus: Bool = false
    ) async throws(Failure) -> (status: Int, json: JSONValue) {
        guard Self.isAllowed(url) else {
            throw Failure(description: "refusing to fetch \(url.prefix(200)): only https:// URLs (or http:// on loopback) are used")
        }
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.headers.add(name: "User-Agent", value: "qlik-mcp/\(QlikMCPVersion.current)")
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let host = URLComponents(string: url)?.host ?? "?"
        do {
            let response = try await client.execute(request, timeout: timeout)
            let buffer = try await response.body.collect(upTo: maxResponseBytes)
            let status = Int(response.status.code)
            guard acceptAnyStatus || (200..<300).contains(status) else {
                throw Failure(description: "\(host) answered HTTP \(status)")
            }
            let text = String(buffer: buffer)
            guard let json = try? JSONCoding.parse(text) else {
                throw Failure(description: "\(host) answered HTTP \(status) with a body that is not JSON")
            }
            return (status, json)
        } catch let failure as Failure {
            throw failure
        } catch is NIOTooManyBytesError {
            throw Failure(description: "\(host) answered with more than \(maxResponseBytes) bytes")
        } catch {
            throw Failure(description: "\(host) could not be reached: \(error)")
        }
    }

    /// https anywhere; http only for loopback hosts.
    public static func isAllowed(_ url: String) -> Bool {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(), let host = components.host, !host.isEmpty else { return false }
        if scheme == "https" { return true }
        return scheme == "http" && LoopbackHost.matches(host)
    }
}

/// Loopback host names and addresses (127.0.0.0/8, ::1, localhost).
public enum LoopbackHost {
    public static func matches(_ host: String) -> Bool {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).lowercased()
        if bare == "localhost" || bare == "::1" { return true }
        let parts = bare.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }
}

/// `application/x-www-form-urlencoded` (WHATWG URL standard) encoding and decoding.
public enum FormEncoding {
    private static let unreserved = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._*")

    public static func encode(_ pairs: [(String, String)]) -> String {
        pairs.map { escape($0.0) + "=" + escape($0.1) }.joined(separator: "&")
    }

    static func escape(_ text: String) -> String {
        (text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? "").replacingOccurrences(of: "%20", with: "+")
    }

    /// Decodes a form body; a name given twice keeps its first value and is reported in `repeated`
    /// (OAuth parameters must not repeat, RFC 6749 §3.1).
    public static func decode(_ body: String) -> (values: [String: String], repeated: Set<String>) {
        var values: [String: String] = [:]
        var repeated = Set<String>()
        for pair in body.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = unescape(String(parts[0]))
            let value = parts.count > 1 ? unescape(String(parts[1])) : ""
            if values[name] == nil { values[name] = value } else { repeated.insert(name) }
        }
        return (values, repeated)
    }

    static func unescape(_ text: String) -> String {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? text
    }
}
