import Foundation
import JSONCore
import MCP

/// MCP resources: `qlik://apps` and the per-app templates. Each is read through the tool that
/// answers the same question, so resources and tools never disagree.
public struct ResourceCatalog: Sendable {
    private let tools: ToolRegistry

    public init() throws {
        tools = try ToolRegistry()
    }

    public static let apps = Resource(
        name: "apps", uri: "qlik://apps", title: "Qlik apps",
        description: "Every app the configured user can open (JSON).", mimeType: "application/json")

    public static let templates: [Resource.Template] = [
        .init(
            uriTemplate: "qlik://apps/{appId}", name: "app", title: "App summary",
            description: "An app's metadata and size (JSON).", mimeType: "application/json"),
        .init(
            uriTemplate: "qlik://apps/{appId}/script", name: "app-script", title: "Load script",
            description: "The app's load script (Qlik script text).", mimeType: "text/plain"),
        .init(
            uriTemplate: "qlik://apps/{appId}/data-model", name: "app-data-model", title: "Data model",
            description: "Tables, fields, keys and associations (JSON).", mimeType: "application/json"),
        .init(
            uriTemplate: "qlik://apps/{appId}/master-items", name: "app-master-items", title: "Master items",
            description: "Master measures and dimensions (JSON).", mimeType: "application/json"),
    ]

    /// Reads a resource. Unknown URIs are argument errors; engine failures are `ToolError`s.
    public func read(_ uri: String, context: ToolContext) async throws -> [Resource.Content] {
        guard uri.hasPrefix("qlik://apps") else {
            throw ArgumentError(field: "uri", message: "'\(uri)' is not a qlik:// resource; see resources/list and resources/templates/list")
        }
        let rest = uri.dropFirst("qlik://apps".count)
        if rest.isEmpty || rest == "/" {
            return [.text(JSONCoding.serialize(try await structured("list_apps", ["limit": 500], context)), uri: uri, mimeType: "application/json")]
        }
        let parts = rest.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard let encoded = parts.first, !encoded.isEmpty, parts.count <= 2, let appID = encoded.removingPercentEncoding else {
            throw ArgumentError(field: "uri", message: "'\(uri)' does not match qlik://apps/{appId}[/script|/data-model|/master-items]")
        }
        let app: JSONValue = ["app_id": .string(appID)]
        switch parts.count == 2 ? parts[1] : "" {
        case "":
            return [.text(JSONCoding.serialize(try await structured("get_app", app, context)), uri: uri, mimeType: "application/json")]
        case "script":
            let script = try await structured("get_script", app, context)["script"]?.stringValue ?? ""
            return [.text(script, uri: uri, mimeType: "text/plain")]
        case "data-model":
            return [.text(JSONCoding.serialize(try await structured("get_data_model", app, context)), uri: uri, mimeType: "application/json")]
        case "master-items":
            let measures = try await structured("list_measures", ["app_id": .string(appID), "limit": 500], context)["items"] ?? []
            let dimensions = try await structured("list_dimensions", ["app_id": .string(appID), "limit": 500], context)["items"] ?? []
            return [.text(JSONCoding.serialize(["measures": measures, "dimensions": dimensions]), uri: uri, mimeType: "application/json")]
        case let other:
            throw ArgumentError(field: "uri", message: "unknown app resource '\(other)'; use script, data-model or master-items")
        }
    }

    private func structured(_ tool: String, _ arguments: JSONValue, _ context: ToolContext) async throws -> JSONValue {
        let result = try await tools.call(tool, arguments: arguments, context: context)
        let content = result.structuredContent.map(ValueBridge.json) ?? .null
        if result.isError == true {
            let error = content["error"]
            throw ToolError(
                code: error?["code"]?.stringValue ?? "ERROR",
                category: ToolError.Category(rawValue: error?["category"]?.stringValue ?? "") ?? .engineError,
                message: error?["message"]?.stringValue ?? "", remediation: error?["remediation"]?.stringValue ?? "",
                retryable: error?["retryable"]?.boolValue ?? false)
        }
        return content
    }
}
