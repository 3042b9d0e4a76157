import JSONCore

/// A variable.
public struct GenericVariable: QIXObject {
    public let connection: QIXConnection
    public let handle: Int
    public let genericID: String

    public func layout() async throws -> JSONValue { try member("qLayout", of: try await call("GetLayout"), method: "GetLayout") }
    public func properties() async throws -> JSONValue { try member("qProp", of: try await call("GetProperties"), method: "GetProperties") }
}

/// A master measure.
public struct GenericMeasure: QIXObject {
    public let connection: QIXConnection
    public let handle: Int
    public let genericID: String

    public func layout() async throws -> JSONValue { try member("qLayout", of: try await call("GetLayout"), method: "GetLayout") }
    public func properties() async throws -> JSONValue { try member("qProp", of: try await call("GetProperties"), method: "GetProperties") }
    public func measure() async throws -> JSONValue { try member("qMeasure", of: try await call("GetMeasure"), method: "GetMeasure") }
    public func linkedObjects() async throws -> [JSONValue] { try await call("GetLinkedObjects")["qItems"]?.arrayValue ?? [] }
}

/// A master dimension.
public struct GenericDimension: QIXObject {
    public let connection: QIXConnection
    public let handle: Int
    public let genericID: String

    public func layout() async throws -> JSONValue { try member("qLayout", of: try await call("GetLayout"), method: "GetLayout") }
    public func properties() async throws -> JSONValue { try member("qProp", of: try await call("GetProperties"), method: "GetProperties") }
    public func dimension() async throws -> JSONValue { try member("qDim", of: try await call("GetDimension"), method: "GetDimension") }
    public func linkedObjects() async throws -> [JSONValue] { try await call("GetLinkedObjects")["qItems"]?.arrayValue ?? [] }
}

/// A bookmark.
public struct GenericBookmark: QIXObject {
    public let connection: QIXConnection
    public let handle: Int
    public let genericID: String

    public func layout() async throws -> JSONValue { try member("qLayout", of: try await call("GetLayout"), method: "GetLayout") }
    public func properties() async throws -> JSONValue { try member("qProp", of: try await call("GetProperties"), method: "GetProperties") }
    @discardableResult
    public func apply() async throws -> Bool { try await call("Apply")["qSuccess"]?.boolValue ?? false }
}
