import AsyncHTTPClient
import Foundation
import JSONCore
import NIOCore
import NIOHTTP1

/// One app as the listing APIs describe it, normalised across deployments.
public struct QlikAppSummary: Sendable, Equatable {
    public var id: String
    public var name: String
    public var description: String
    /// Stream (Enterprise) or space (Cloud) name/id, when the app is published in one.
    public var stream: String?
    public var published: Bool
    public var lastReloadTime: String?
    public var owner: String?
}

/// Lists apps the way each deployment does: QRS `GET /qrs/app/full` (Enterprise),
/// `GET /api/v1/items?resourceType=app` (Cloud), `Global.GetDocList` (Desktop, demo engine).
public struct AppLister: Sendable {
    public let endpoint: QIXEndpoint
    /// QRS port (Enterprise); 4242 by default.
    public var qrsPort = 4242
    /// Base URL override for the REST APIs (tests, or a proxy in front of QRS / Qlik Cloud).
    public var restBaseURL: String?
    public var timeout: Duration = .seconds(20)
    /// Most apps returned (Cloud pages are followed until this many are collected).
    public var maxApps = 10_000

    public init(endpoint: QIXEndpoint) {
        self.endpoint = endpoint
    }

    /// Apps whose name contains `search` (case-insensitive), or all.
    public func listApps(search: String? = nil) async throws -> [QlikAppSummary] {
        let apps: [QlikAppSummary]
        switch endpoint.deployment {
        case .desktop: apps = try await engineDocList()
        case .enterprise: apps = try await qrsApps(search: search)
        case .cloud: apps = try await cloudApps(search: search)
        }
        guard let search, !search.isEmpty else { return apps }
        return apps.filter { $0.name.localizedCaseInsensitiveContains(search) }
    }

    private func engineDocList() async throws -> [QlikAppSummary] {
        let connection = try await QIXConnection.connect(to: endpoint, appID: nil)
        defer { connection.close() }
        return try await Global(connection: connection).docList().map { doc in
            QlikAppSummary(
                id: doc["qDocId"]?.stringValue ?? doc["qDocName"]?.stringValue ?? "",
                name: doc["qTitle"]?.stringValue ?? doc["qDocName"]?.stringValue ?? "",
                description: doc["qMeta"]?["description"]?.stringValue ?? "",
                stream: doc["qMeta"]?["stream"]?["name"]?.stringValue,
                published: doc["qMeta"]?["published"]?.boolValue ?? false,
                lastReloadTime: doc["qLastReloadTime"]?.stringValue,
                owner: doc["qMeta"]?["owner"]?.stringValue)
        }
    }

    /// A fresh 16-character xrfkey (QRS cross-site request forgery protection).
    static func makeXrfKey() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        return String((0..<16).map { _ in alphabet.randomElement()! })
    }

    private func qrsApps(search: String?) async throws -> [QlikAppSummary] {
        let xrf = Self.makeXrfKey()
        var query = "xrfkey=\(xrf)"
        if let search, !search.isEmpty {
            let escaped = search.replacingOccurrences(of: "'", with: "''")
            query += "&filter=" + "name so '\(escaped)'".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        }
        let base = restBaseURL ?? "https://\(endpoint.host):\(qrsPort)"
        let url = "\(base)/qrs/app/full?\(query)"
        let headers = [("X-Qlik-Xrfkey", xrf)] + endpoint.headers
        let body = try await get(url, headers: headers)
        guard case .array(let apps) = body else { throw QIXClientError.protocolViolation("QRS /qrs/app/full did not return an array") }
        return apps.map { app in
            let owner = app["owner"]
            return QlikAppSummary(
                id: app["id"]?.stringValue ?? "", name: app["name"]?.stringValue ?? "",
                description: app["description"]?.stringValue ?? "", stream: app["stream"]?["name"]?.stringValue,
                published: app["published"]?.boolValue ?? false, lastReloadTime: app["lastReloadTime"]?.stringValue,
                owner: owner.map { "\($0["userDirectory"]?.stringValue ?? "")\\\($0["userId"]?.stringValue ?? "")" })
        }
    }

    private func cloudApps(search: String?) async throws -> [QlikAppSummary] {
        let base = restBaseURL ?? "https://\(endpoint.host)"
        var next: String? = "\(base)/api/v1/items?resourceType=app&limit=100"
        if let search, !search.isEmpty, let encoded = search.addingPercentEncoding(withAllowedCharacters: .alphanumerics) {
            next! += "&query=\(encoded)"
        }
        var apps: [QlikAppSummary] = []
        var pages = 0
        while let url = next, apps.count < maxApps, pages < 1000 {
            pages += 1
            let body = try await get(url, headers: endpoint.headers)
            for item in body["data"]?.arrayValue ?? [] {
                apps.append(
                    QlikAppSummary(
                        id: item["resourceId"]?.stringValue ?? item["id"]?.stringValue ?? "", name: item["name"]?.stringValue ?? "",
                        description: item["description"]?.stringValue ?? "", stream: item["spaceId"]?.stringValue,
                        published: item["resourceAttributes"]?["published"]?.boolValue ?? false,
                        lastReloadTime: item["resourceAttributes"]?["lastReloadTime"]?.stringValue ?? item["updatedAt"]?.stringValue,
                        owner: item["ownerId"]?.stringValue))
            }
            next = body["links"]?["next"]?["href"]?.stringValue
            // Only follow links on the same host: never send the API key elsewhere.
            if let link = next, !link.hasPrefix(base) { next = nil }
        }
        return Array(apps.prefix(maxApps))
    }

    private func get(_ url: String, headers: [(String, String)]) async throws -> JSONValue {
        try await QlikREST(endpoint: endpoint, timeout: timeout).get(url, headers: headers)
    }
}
