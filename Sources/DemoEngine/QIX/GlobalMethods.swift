import JSONCore

/// Methods of the Global object (handle -1).
enum GlobalMethods {
    static let engineVersion = "12.2027.0"

    static func call(_ method: String, _ params: QIXParams, session: QIXSession) throws -> JSONValue {
        switch method {
        case "EngineVersion":
            return ["qVersion": ["qComponentVersion": .string(engineVersion)]]
        case "ProductVersion":
            return ["qReturn": .string(engineVersion)]
        case "QTProduct":
            return ["qReturn": "Qlik Sense"]
        case "OSName":
            return ["qReturn": "Linux"]
        case "IsDesktopMode":
            return ["qReturn": true]
        case "GetAuthenticatedUser":
            return ["qReturn": "UserDirectory=DEMO; UserId=demo"]
        case "GetDocList":
            return ["qDocList": .array(session.catalog.apps.map { docEntry($0, catalog: session.catalog) })]
        case "OpenDoc":
            let name = try params.string("qDocName")
            guard let app = session.catalog.app(id: name) else {
                throw QIXFault(
                    "LOCERR_APP_NOT_FOUND", parameter: name,
                    message: "App not found: '\(name)'; this engine has \(session.catalog.apps.map { $0.id }.joined(separator: ", "))")
            }
            if let bound = session.boundAppID, bound != app.id, !bound.isEmpty {
                throw QIXFault(
                    "LOCERR_APP_ALREADY_OPEN_IN_DIFFERENT_MODE", parameter: name,
                    message: "this socket was opened for app '\(bound)' (/app/\(bound)); open '\(name)' on /app/\(name)")
            }
            if let doc = session.doc {
                guard doc.app.id == app.id else {
                    throw QIXFault("LOCERR_APP_ALREADY_OPEN", parameter: name, message: "app '\(doc.app.id)' is already open in this session")
                }
            } else {
                session.doc = DocSession(app: app, selection: session.selection(app.id), reduction: session.reduction)
            }
            return ["qReturn": try session.handle(kind: .doc, type: "Doc", genericID: app.id)]
        case "GetActiveDoc":
            guard let doc = session.doc else { throw QIXFault("LOCERR_APP_NOT_OPEN", message: "no app is open in this session") }
            return ["qReturn": try session.handle(kind: .doc, type: "Doc", genericID: doc.app.id)]
        case "GetProgress":
            return ["qProgressData": session.lastReload?.progressData ?? ReloadRun.notStarted]
        case "CancelReload":
            // Demo reloads finish within the DoReloadEx call, so there is never one to cancel.
            return [:]
        default:
            throw QIXFault("LOCERR_GENERIC_NOT_IMPLEMENTED", parameter: method, message: "Global.\(method) is not implemented by the demo engine")
        }
    }

    static func docEntry(_ app: DemoApp, catalog: DemoAppCatalog) -> JSONValue {
        [
            "qDocName": .string(app.id), "qDocId": .string(app.id), "qTitle": .string(app.title),
            "qConnectedUsers": 0, "qFileTime": 0, "qFileSize": .number(Double(app.model.totalRows * 40)),
            "qLastReloadTime": .string(catalog.lastReloadTime(app)), "qReadOnly": false, "qThumbnail": [:],
            "qMeta": [
                "title": .string(app.title), "description": .string(app.description),
                "stream": ["id": .string("stream-" + app.stream.lowercased().replacingOccurrences(of: " ", with: "-")), "name": .string(app.stream)],
                "createdDate": .string(app.createdDate), "modifiedDate": .string(app.modifiedDate), "owner": .string(app.owner),
                "published": true,
            ],
        ]
    }
}
