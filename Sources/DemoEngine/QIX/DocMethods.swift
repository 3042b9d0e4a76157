import Foundation
import JSONCore

/// Methods of the Doc object (an open app).
enum DocMethods {
    static func call(_ method: String, _ params: QIXParams, session: QIXSession, doc: DocSession) throws -> JSONValue {
        let app = doc.app
        switch method {
        case "GetAppLayout":
            return [
                "qLayout": [
                    "qTitle": .string(app.title), "qFileName": .string(app.id), "qLastReloadTime": .string(session.catalog.lastReloadTime(app)),
                    "qHasScript": true, "qHasData": true, "qReadOnly": false, "qIsOpenedWithoutData": false, "qStateNames": [],
                    "description": .string(app.description),
                    "qMeta": [
                        "title": .string(app.title), "description": .string(app.description), "stream": ["name": .string(app.stream)],
                        "owner": .string(app.owner), "createdDate": .string(app.createdDate), "modifiedDate": .string(app.modifiedDate),
                    ],
                    "qLocaleInfo": ["qDecimalSep": ".", "qThousandSep": ",", "qDateFmt": "YYYY-MM-DD", "qTimestampFmt": "YYYY-MM-DD hh:mm:ss"],
                ]
            ]
        case "GetAppProperties":
            return ["qProp": ["qTitle": .string(app.title), "description": .string(app.description), "qLastReloadTime": .string(session.catalog.lastReloadTime(app))]]
        case "GetScript":
            return ["qScript": .string(app.script)]
        case "GetConnections":
            return [
                "qConnections": .array(
                    app.connections.map { connection in
                        [
                            "qId": .string(connection.id), "qName": .string(connection.name), "qType": .string(connection.type),
                            "qConnectionString": .string(connection.connectionString), "qModifiedDate": .string(app.modifiedDate),
                            "qMeta": ["name": .string(connection.name)],
                        ]
                    })
            ]
        case "GetLineage":
            return ["qLineage": .array(app.lineage.map { ["qDiscriminator": .string($0.discriminator), "qStatement": .string($0.statement)] })]
        case "GetTablesAndKeys":
            return TablesAndKeys.json(doc: doc)
        case "GetFieldDescription":
            let name = try params.string("qFieldName")
            guard let field = doc.model.field(named: name) else { throw QIXFault.notFound("field", name) }
            return ["qReturn": TablesAndKeys.fieldDescription(field, doc: doc)]
        case "GetField":
            let name = try params.string("qFieldName")
            if let state = try params.optionalString("qStateName"), !state.isEmpty, state != "$" {
                throw QIXFault("LOCERR_GENERIC_NOT_IMPLEMENTED", parameter: "qStateName", message: "alternate states are not supported by the demo engine")
            }
            guard let field = doc.model.field(named: name) else { throw QIXFault.notFound("field", name) }
            return ["qReturn": try session.handle(kind: .field(field.index), type: "Field", genericID: field.name)]
        case "Evaluate":
            let expression = try params.string("qExpression")
            return ["qReturn": .string(try evaluate(expression, doc: doc)?.text ?? "-")]
        case "EvaluateEx":
            let expression = try params.string("qExpression")
            let value = try evaluate(expression, doc: doc)
            var result: [String: JSONValue] = ["qText": .string(value?.text ?? "-"), "qIsNumeric": .bool(value?.number != nil)]
            result["qNumber"] = value?.number.map { .number($0) } ?? "NaN"
            if value == nil { result["qIsNull"] = true }
            return ["qValue": .object(result)]
        case "CheckExpression":
            let expression = try params.string("qExpr")
            do {
                let unknown = try doc.unknownFields(in: expression)
                if !unknown.isEmpty {
                    return [
                        "qErrorMsg": .string("Bad field name(s): \(unknown.map(\.name).joined(separator: ", "))"),
                        "qBadFieldNames": .array(unknown.map { ["qFrom": .number(Double($0.offset)), "qCount": .number(Double($0.name.count))] }),
                        "qDangerousFieldNames": [],
                    ]
                }
                return ["qErrorMsg": "", "qBadFieldNames": [], "qDangerousFieldNames": []]
            } catch let error as ExpressionError {
                return ["qErrorMsg": .string(error.description), "qBadFieldNames": [], "qDangerousFieldNames": []]
            }
        case "GetObject":
            let id = try params.string("qId")
            guard app.object(id: id) != nil || session.sessionObjects[id] != nil else { throw QIXFault.notFound("object", id) }
            return ["qReturn": try session.handle(kind: .object(id), type: "GenericObject", genericID: id)]
        case "CreateSessionObject":
            var properties = try params.object("qProp")
            guard session.sessionObjects.count < QIXSession.maxSessionObjects else {
                throw QIXFault("LOCERR_GENERIC_OUT_OF_MEMORY", message: "this session already has \(QIXSession.maxSessionObjects) session objects; destroy some first")
            }
            var info = properties["qInfo"]?.objectValue ?? [:]
            let id = info["qId"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? session.newSessionObjectID()
            guard session.sessionObjects[id] == nil, app.object(id: id) == nil else {
                throw QIXFault("LOCERR_GENERIC_ALREADY_EXISTS", parameter: id, message: "an object with id '\(id)' already exists")
            }
            info["qId"] = .string(id)
            if info["qType"] == nil { info["qType"] = "session-object" }
            if case .object(var object) = properties { object["qInfo"] = .object(info); properties = .object(object) }
            session.sessionObjects[id] = properties
            return ["qReturn": try session.handle(kind: .object(id), type: "GenericObject", genericID: id)]
        case "DestroySessionObject":
            let id = try params.string("qId")
            guard session.sessionObjects.removeValue(forKey: id) != nil else { return ["qSuccess": false] }
            session.closeHandle(type: "GenericObject", genericID: id)
            return ["qSuccess": true]
        case "GetAllInfos":
            let infos =
                app.objects.map { ["qId": .string($0.id), "qType": .string($0.type)] as JSONValue }
                + app.measures.map { ["qId": .string($0.id), "qType": "measure"] as JSONValue }
                + app.dimensions.map { ["qId": .string($0.id), "qType": "dimension"] as JSONValue }
                + app.bookmarks.map { ["qId": .string($0.id), "qType": "bookmark"] as JSONValue }
            return ["qInfos": .array(infos)]
        case "GetVariableByName", "GetVariableById":
            let key = try params.string(method == "GetVariableByName" ? "qName" : "qId")
            guard let variable = app.variables.first(where: { method == "GetVariableByName" ? $0.name == key : $0.id == key }) else {
                throw QIXFault.notFound("variable", key)
            }
            return ["qReturn": try session.handle(kind: .variable(variable.id), type: "GenericVariable", genericID: variable.id)]
        case "GetMeasure":
            let id = try params.string("qId")
            guard app.measures.contains(where: { $0.id == id }) else { throw QIXFault.notFound("measure", id) }
            return ["qReturn": try session.handle(kind: .measure(id), type: "GenericMeasure", genericID: id)]
        case "GetDimension":
            let id = try params.string("qId")
            guard app.dimensions.contains(where: { $0.id == id }) else { throw QIXFault.notFound("dimension", id) }
            return ["qReturn": try session.handle(kind: .dimension(id), type: "GenericDimension", genericID: id)]
        case "GetBookmark":
            let id = try params.string("qId")
            guard app.bookmarks.contains(where: { $0.id == id }) else { throw QIXFault.notFound("bookmark", id) }
            return ["qReturn": try session.handle(kind: .bookmark(id), type: "GenericBookmark", genericID: id)]
        case "ApplyBookmark":
            let id = try params.string("qId")
            guard let bookmark = app.bookmarks.first(where: { $0.id == id }) else { throw QIXFault.notFound("bookmark", id) }
            let success = doc.apply(bookmark)
            session.pendingChange = true
            return ["qSuccess": .bool(success)]
        case "ClearAll":
            doc.setSelection(SelectionState())
            session.pendingChange = true
            return [:]
        case "DoReloadEx":
            let options: JSONValue = params["qParams"] == nil || params["qParams"] == .null ? [:] : try params.object("qParams")
            let run = ReloadRun.run(app: app, partial: options["qPartial"]?.boolValue ?? false, log: session.catalog.reloadLog)
            session.lastReload = run
            session.pendingChange = true
            return ["qResult": ["qSuccess": true, "qScriptLogFile": .string(run.logFile), "qEndedWithMemoryConstraint": false]]
        case "DoReload":
            let run = ReloadRun.run(app: app, partial: try params.bool("qPartial", default: false), log: session.catalog.reloadLog)
            session.lastReload = run
            session.pendingChange = true
            return ["qReturn": true]
        case "DoSave":
            // The demo apps live in memory; the reload history is what a save would keep.
            return [:]
        case "GetTableData":
            return try TablesAndKeys.tableData(params, doc: doc)
        case "GetLocaleInfo":
            return ["qReturn": ["qDecimalSep": ".", "qThousandSep": ",", "qDateFmt": "YYYY-MM-DD", "qTimestampFmt": "YYYY-MM-DD hh:mm:ss", "qCollation": "en-US"]]
        default:
            throw QIXFault("LOCERR_GENERIC_NOT_IMPLEMENTED", parameter: method, message: "Doc.\(method) is not implemented by the demo engine")
        }
    }

    static func evaluate(_ expression: String, doc: DocSession) throws -> FieldValue? {
        do {
            return try doc.evaluate(expression)
        } catch let error as ExpressionError {
            throw QIXFault.expression(error, parameter: "qExpression")
        }
    }
}
