import Foundation
import JSONCore
import QIXWire

/// One QIX session (one WebSocket): its handles, open app and session objects. Messages are
/// processed one at a time, in order, as a real engine does. Not shared between tasks.
final class QIXSession {
    enum Kind {
        case global, doc
        case object(String)
        case field(Int)
        case variable(String)
        case measure(String)
        case dimension(String)
        case bookmark(String)
    }

    struct Handle {
        let kind: Kind
        let type: String
        let genericID: String
    }

    let catalog: DemoAppCatalog
    /// The app named in the URL (`/app/<id>`), if any.
    let boundAppID: String?
    /// The selection state of an app in this session (shared by identity; see `SharedSelections`).
    let selection: (String) -> SelectionBox
    var doc: DocSession?
    var handles: [Int: Handle] = [-1: Handle(kind: .global, type: "Global", genericID: "")]
    private var handleByKey: [String: Int] = [:]
    private var nextHandle = 1
    var sessionObjects: [String: JSONValue] = [:]
    /// The last reload run in this session (what `GetProgress` reports).
    var lastReload: ReloadRun?
    private var sessionObjectCounter = 0
    /// Handles whose layout may have changed since the last response (sent as `change`).
    var pendingChange = false
    static let maxOpenHandles = 10_000
    static let maxSessionObjects = 1_000

    /// Values of fields this session's user may see (section access); nil: everything.
    let reduction: [String: Set<String>]?
    let counter: RequestCounter?

    init(
        catalog: DemoAppCatalog, boundAppID: String?, selection: @escaping (String) -> SelectionBox = { _ in SelectionBox() },
        reduction: [String: Set<String>]? = nil, counter: RequestCounter? = nil
    ) {
        self.catalog = catalog
        self.boundAppID = boundAppID
        self.selection = selection
        self.reduction = reduction
        self.counter = counter
    }

    /// The notification sent when the socket opens.
    static let onConnected: JSONValue = ["jsonrpc": "2.0", "method": "OnConnected", "params": ["qSessionState": "SESSION_CREATED"]]

    /// Processes one text message and returns the response (nil for notifications without id).
    func process(_ text: String, injectFault: (String) -> Bool = { _ in false }) -> JSONValue? {
        let message: JSONValue
        do {
            message = try JSONCoding.parse(text)
        } catch {
            return Self.errorResponse(id: .null, QIXFault(code: JSONRPCErrorCode.parseError, parameter: "", message: "Parse error: \(error)"))
        }
        guard case .object(let request) = message else {
            return Self.errorResponse(id: .null, QIXFault(code: JSONRPCErrorCode.invalidRequest, message: "a request must be a JSON object"))
        }
        let id = request["id"] ?? .null
        do {
            guard let method = request["method"]?.stringValue, !method.isEmpty else {
                throw QIXFault(code: JSONRPCErrorCode.invalidRequest, parameter: "method", message: "the request has no method")
            }
            guard let handleNumber = request["handle"]?.intValue else {
                throw QIXFault.invalidParams("handle", "the request needs an integer handle (-1 for Global)")
            }
            guard let handle = handles[handleNumber] else {
                throw QIXFault.invalidParams("handle", "invalid handle \(handleNumber): it was never returned by this session or has been closed")
            }
            guard let signature = QIXCatalog.methods[handle.type]?[method] else {
                throw QIXFault(code: JSONRPCErrorCode.methodNotFound, parameter: method, message: "Method not found: \(handle.type) has no method '\(method)'")
            }
            counter?.record(method)
            if injectFault(method) {
                throw QIXFault("LOCERR_GENERIC_INTERNAL_ERROR", parameter: method, message: "injected fault (demo engine fault injection)")
            }
            let params = try QIXParams(request["params"], signature: signature)
            let result = try dispatch(handle: handle, number: handleNumber, method: method, params: params)
            if id == .null { return nil }
            var response: [String: JSONValue] = ["jsonrpc": "2.0", "id": id, "result": result]
            if pendingChange {
                pendingChange = false
                response["change"] = .array(handles.keys.filter { $0 != -1 }.sorted().map { .number(Double($0)) })
            }
            return .object(response)
        } catch let fault as QIXFault {
            return Self.errorResponse(id: id, fault)
        } catch let error as ExpressionError {
            return Self.errorResponse(id: id, QIXFault.expression(error, parameter: ""))
        } catch {
            return Self.errorResponse(id: id, QIXFault(code: JSONRPCErrorCode.internalError, message: "\(error)"))
        }
    }

    static func errorResponse(id: JSONValue, _ fault: QIXFault) -> JSONValue {
        ["jsonrpc": "2.0", "id": id, "error": fault.json]
    }

    private func dispatch(handle: Handle, number: Int, method: String, params: QIXParams) throws -> JSONValue {
        switch handle.kind {
        case .global: return try GlobalMethods.call(method, params, session: self)
        case .doc: return try DocMethods.call(method, params, session: self, doc: try openDoc())
        case .object(let id): return try ObjectMethods.call(method, params, session: self, doc: try openDoc(), objectID: id)
        case .field(let index): return try FieldMethods.call(method, params, session: self, doc: try openDoc(), field: index)
        case .variable(let id): return try ItemMethods.variable(method, params, doc: try openDoc(), id: id)
        case .measure(let id): return try ItemMethods.measure(method, params, doc: try openDoc(), id: id)
        case .dimension(let id): return try ItemMethods.dimension(method, params, doc: try openDoc(), id: id)
        case .bookmark(let id): return try ItemMethods.bookmark(method, params, session: self, doc: try openDoc(), id: id)
        }
    }

    func openDoc() throws -> DocSession {
        guard let doc else { throw QIXFault("LOCERR_APP_NOT_OPEN", message: "no app is open in this session: call OpenDoc first") }
        return doc
    }

    /// Returns the handle for (type, id), creating it on first use (the engine reuses handles).
    func handle(kind: Kind, type: String, genericID: String) throws -> JSONValue {
        let key = "\(type)\u{0}\(genericID)"
        if let existing = handleByKey[key] {
            return QIXObjectReference(type: type, handle: existing, genericID: genericID).json
        }
        guard handles.count < Self.maxOpenHandles else {
            throw QIXFault("LOCERR_GENERIC_OUT_OF_MEMORY", message: "this session has \(Self.maxOpenHandles) open handles; close objects or open a new session")
        }
        let number = nextHandle
        nextHandle += 1
        handles[number] = Handle(kind: kind, type: type, genericID: genericID)
        handleByKey[key] = number
        return QIXObjectReference(type: type, handle: number, genericID: genericID).json
    }

    /// Forgets the handle of a destroyed session object.
    func closeHandle(type: String, genericID: String) {
        let key = "\(type)\u{0}\(genericID)"
        if let number = handleByKey.removeValue(forKey: key) { handles[number] = nil }
    }

    func newSessionObjectID() -> String {
        sessionObjectCounter += 1
        return "session-\(sessionObjectCounter)"
    }
}
