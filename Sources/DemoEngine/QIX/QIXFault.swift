import JSONCore
import QIXWire

/// An error the demo engine answers on the wire: `{"code":…,"parameter":…,"message":…}`.
struct QIXFault: Error {
    let code: Int
    let parameter: String
    let message: String

    init(_ name: String, parameter: String = "", message: String) {
        self.code = QIXErrorNames.code(for: name) ?? -1
        self.parameter = parameter
        self.message = message
    }

    init(code: Int, parameter: String = "", message: String) {
        self.code = code
        self.parameter = parameter
        self.message = message
    }

    static func invalidParams(_ parameter: String, _ message: String) -> QIXFault {
        QIXFault(code: JSONRPCErrorCode.invalidParams, parameter: parameter, message: message)
    }

    static func notFound(_ what: String, _ id: String) -> QIXFault {
        QIXFault("LOCERR_GENERIC_NOT_FOUND", parameter: id, message: "\(what) '\(id)' was not found")
    }

    static func expression(_ error: ExpressionError, parameter: String) -> QIXFault {
        if error.unsupported {
            return QIXFault("LOCERR_GENERIC_NOT_IMPLEMENTED", parameter: parameter, message: "Unsupported by the demo engine: \(error.description)")
        }
        return QIXFault("LOCERR_GENERIC_INVALID_PARAMETERS", parameter: parameter, message: "Invalid expression: \(error.description)")
    }

    var json: JSONValue {
        ["code": .number(Double(code)), "parameter": .string(parameter), "message": .string(message)]
    }
}

/// Named parameters of one request, normalised from positional or named form.
struct QIXParams {
    let values: [String: JSONValue]

    /// Normalises `params` (array or object) against the method's signature.
    init(_ params: JSONValue?, signature: QIXMethodSignature) throws {
        var named: [String: JSONValue] = [:]
        let names = signature.parameterNames
        switch params {
        case .none, .some(.null):
            break
        case .some(.array(let list)):
            guard list.count <= names.count else {
                throw QIXFault.invalidParams("params", "too many parameters: \(list.count) given, the method takes \(names.count) (\(names.joined(separator: ", ")))")
            }
            for (index, value) in list.enumerated() { named[names[index]] = value }
        case .some(.object(let object)):
            for key in object.keys where !names.contains(key) && !key.hasPrefix("_") {
                throw QIXFault.invalidParams(key, "unknown parameter '\(key)'; this method takes \(names.isEmpty ? "no parameters" : names.joined(separator: ", "))")
            }
            named = object
        case .some:
            throw QIXFault.invalidParams("params", "params must be an array or an object")
        }
        for required in signature.requiredParameterNames where named[required] == nil || named[required] == .null {
            throw QIXFault.invalidParams(required, "missing required parameter '\(required)'")
        }
        self.values = named
    }

    subscript(_ name: String) -> JSONValue? { values[name] }

    func string(_ name: String) throws -> String {
        guard let value = values[name] else { throw QIXFault.invalidParams(name, "missing parameter '\(name)'") }
        guard let text = value.stringValue else { throw QIXFault.invalidParams(name, "parameter '\(name)' must be a string") }
        return text
    }

    func optionalString(_ name: String) throws -> String? {
        guard let value = values[name], value != .null else { return nil }
        return try string(name)
    }

    func bool(_ name: String, default fallback: Bool) throws -> Bool {
        guard let value = values[name], value != .null else { return fallback }
        guard let flag = value.boolValue else { throw QIXFault.invalidParams(name, "parameter '\(name)' must be a boolean") }
        return flag
    }

    func int(_ name: String) throws -> Int {
        guard let value = values[name]?.intValue else { throw QIXFault.invalidParams(name, "parameter '\(name)' must be an integer") }
        return value
    }

    func array(_ name: String) throws -> [JSONValue] {
        guard let value = values[name]?.arrayValue else { throw QIXFault.invalidParams(name, "parameter '\(name)' must be an array") }
        return value
    }

    func object(_ name: String) throws -> JSONValue {
        guard let value = values[name], value.objectValue != nil else { throw QIXFault.invalidParams(name, "parameter '\(name)' must be an object") }
        return value
    }
}
