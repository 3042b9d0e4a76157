import JSONCore

/// A generic object: a sheet, a chart, or a session object holding a hypercube or list.
public struct GenericObject: QIXObject {
    public let connection: QIXConnection
    public let handle: Int
    public let genericID: String

    public init(connection: QIXConnection, handle: Int, genericID: String) {
        self.connection = connection
        self.handle = handle
        self.genericID = genericID
    }

    public func layout() async throws -> JSONValue {
        try member("qLayout", of: try await call("GetLayout"), method: "GetLayout")
    }

    public func properties() async throws -> JSONValue {
        try member("qProp", of: try await call("GetProperties"), method: "GetProperties")
    }

    public func fullPropertyTree() async throws -> JSONValue {
        try member("qPropEntry", of: try await call("GetFullPropertyTree"), method: "GetFullPropertyTree")
    }

    public func childInfos() async throws -> [JSONValue] {
        try await call("GetChildInfos")["qInfos"]?.arrayValue ?? []
    }

    public func info() async throws -> JSONValue {
        try member("qInfo", of: try await call("GetInfo"), method: "GetInfo")
    }

    /// A rectangle of cells (`qPages` entry).
    public struct Page: Sendable {
        public var top, left, width, height: Int
        public init(top: Int, left: Int, width: Int, height: Int) {
            self.top = top; self.left = left; self.width = width; self.height = height
        }
        var json: JSONValue {
            ["qTop": .number(Double(top)), "qLeft": .number(Double(left)), "qWidth": .number(Double(width)), "qHeight": .number(Double(height))]
        }
    }

    /// `GetHyperCubeData`: the pages' `qMatrix` rows.
    public func hyperCubeData(path: String = "/qHyperCubeDef", pages: [Page]) async throws -> [JSONValue] {
        try await call("GetHyperCubeData", ["qPath": .string(path), "qPages": .array(pages.map(\.json))])["qDataPages"]?.arrayValue ?? []
    }

    public func listObjectData(path: String = "/qListObjectDef", pages: [Page]) async throws -> [JSONValue] {
        try await call("GetListObjectData", ["qPath": .string(path), "qPages": .array(pages.map(\.json))])["qDataPages"]?.arrayValue ?? []
    }

    @discardableResult
    public func selectListObjectValues(path: String = "/qListObjectDef", elements: [Int], toggle: Bool = false) async throws -> Bool {
        try await call(
            "SelectListObjectValues",
            [
                "qPath": .string(path), "qValues": .array(elements.map { .number(Double($0)) }),
                "qToggleMode": .bool(toggle),
            ])["qSuccess"]?.boolValue ?? false
    }
}

/// A field: selections.
public struct Field: QIXObject {
    public let connection: QIXConnection
    public let handle: Int
    public let genericID: String

    /// Selects values matching `match` (Qlik search syntax: exact text, or `*`/`?` wildcards).
    @discardableResult
    public func select(_ match: String) async throws -> Bool {
        try await call("Select", ["qMatch": .string(match)])["qReturn"]?.boolValue ?? false
    }

    @discardableResult
    public func toggleSelect(_ match: String) async throws -> Bool {
        try await call("ToggleSelect", ["qMatch": .string(match)])["qReturn"]?.boolValue ?? false
    }

    /// A value to select: text, or a number.
    public enum Value: Sendable {
        case text(String)
        case number(Double)
        var json: JSONValue {
            switch self {
            case .text(let text): return ["qText": .string(text), "qIsNumeric": false]
            case .number(let number): return ["qIsNumeric": true, "qNumber": .number(number)]
            }
        }
    }

    @discardableResult
    public func selectValues(_ values: [Value], toggle: Bool = false) async throws -> Bool {
        try await call("SelectValues", ["qFieldValues": .array(values.map(\.json)), "qToggleMode": .bool(toggle)])["qReturn"]?.boolValue ?? false
    }

    public func clear() async throws {
        try await call("Clear")
    }

    public func cardinal() async throws -> Int {
        try await call("GetCardinal")["qReturn"]?.intValue ?? 0
    }
}
