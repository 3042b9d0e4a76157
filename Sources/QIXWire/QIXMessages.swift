import JSONCore

/// The signature of one QIX method: input parameter names in positional order (a trailing `?`
/// marks an optional one) and output names.
public struct QIXMethodSignature: Sendable {
    public let inputs: [String]
    public let outputs: [String]

    public init(inputs: [String], outputs: [String]) {
        self.inputs = inputs
        self.outputs = outputs
    }

    /// Input names without the optional marker.
    public var parameterNames: [String] { inputs.map { $0.hasSuffix("?") ? String($0.dropLast()) : $0 } }
    public var requiredParameterNames: [String] { inputs.filter { !$0.hasSuffix("?") } }
}

/// The handle of the Global object in every QIX session.
public let qixGlobalHandle = -1

/// A reference to an engine object, as returned in `qReturn`.
public struct QIXObjectReference: Sendable, Hashable {
    public let type: String
    public let handle: Int
    public let genericID: String

    public init(type: String, handle: Int, genericID: String) {
        self.type = type
        self.handle = handle
        self.genericID = genericID
    }

    public init?(_ value: JSONValue?) {
        guard let value, let type = value["qType"]?.stringValue, let handle = value["qHandle"]?.intValue else { return nil }
        self.init(type: type, handle: handle, genericID: value["qGenericId"]?.stringValue ?? "")
    }

    public var json: JSONValue {
        ["qType": .string(type), "qHandle": .number(Double(handle)), "qGenericId": .string(genericID)]
    }
}

/// Standard JSON-RPC 2.0 error codes used on the QIX wire.
public enum JSONRPCErrorCode {
    public static let parseError = -32700
    public static let invalidRequest = -32600
    public static let methodNotFound = -32601
    public static let invalidParams = -32602
    public static let internalError = -32603
}
