import JSONCore
import QIXWire

/// An engine object reached through a handle on a connection.
public protocol QIXObject: Sendable {
    var connection: QIXConnection { get }
    var handle: Int { get }
    /// The object's id (`qGenericId`): app id for a Doc, object id, field name, …
    var genericID: String { get }
}

extension QIXObject {
    /// Calls `method` on this object with named parameters and returns the `result` member.
    @discardableResult
    public func call(_ method: String, _ params: [String: JSONValue] = [:]) async throws -> JSONValue {
        try await connection.call(handle: handle, method: method, params: params).result
    }

    /// Calls a method that returns an object reference (`qReturn: {qType, qHandle, qGenericId}`).
    func callForObject(_ method: String, _ params: [String: JSONValue]) async throws -> QIXObjectReference {
        let result = try await call(method, params)
        guard let reference = QIXObjectReference(result["qReturn"]) else {
            throw QIXClientError.protocolViolation("\(method) returned no object reference: \(JSONCoding.serialize(result).prefix(200))")
        }
        return reference
    }

    /// Extracts `result[key]`, failing clearly when the engine left it out.
    func member(_ key: String, of result: JSONValue, method: String) throws -> JSONValue {
        guard let value = result[key] else {
            throw QIXClientError.protocolViolation("\(method) returned no '\(key)'")
        }
        return value
    }
}

/// The Global object (handle -1): engine information, app list, opening apps.
public struct Global: QIXObject {
    public let connection: QIXConnection
    public var handle: Int { qixGlobalHandle }
    public var genericID: String { "" }

    public init(connection: QIXConnection) {
        self.connection = connection
    }

    /// The engine's component version, e.g. `12.2027.0`.
    public func engineVersion() async throws -> String {
        let result = try await call("EngineVersion")
        guard let version = result["qVersion"]?["qComponentVersion"]?.stringValue else {
            throw QIXClientError.protocolViolation("EngineVersion returned no qVersion.qComponentVersion")
        }
        return version
    }

    public func productVersion() async throws -> String {
        try await call("ProductVersion")["qReturn"]?.stringValue ?? ""
    }

    public func authenticatedUser() async throws -> String {
        try await call("GetAuthenticatedUser")["qReturn"]?.stringValue ?? ""
    }

    /// `GetDocList`: the apps the engine can open (Desktop and the demo engine).
    public func docList() async throws -> [JSONValue] {
        try member("qDocList", of: try await call("GetDocList"), method: "GetDocList").arrayValue ?? []
    }

    /// Opens an app and returns its Doc.
    public func openDoc(_ appID: String, noData: Bool = false) async throws -> Doc {
        var params: [String: JSONValue] = ["qDocName": .string(appID)]
        if noData { params["qNoData"] = true }
        let reference = try await callForObject("OpenDoc", params)
        return Doc(connection: connection, handle: reference.handle, genericID: reference.genericID)
    }

    /// The app already open in this session.
    public func activeDoc() async throws -> Doc {
        let reference = try await callForObject("GetActiveDoc", [:])
        return Doc(connection: connection, handle: reference.handle, genericID: reference.genericID)
    }
}
