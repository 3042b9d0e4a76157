import JSONCore

/// Methods of master items: GenericVariable, GenericMeasure, GenericDimension, GenericBookmark.
enum ItemMethods {
    private static func notImplemented(_ type: String, _ method: String) -> QIXFault {
        QIXFault("LOCERR_GENERIC_NOT_IMPLEMENTED", parameter: method, message: "\(type).\(method) is not implemented by the demo engine (master items are read-only)")
    }

    static func variable(_ method: String, _ params: QIXParams, doc: DocSession, id: String) throws -> JSONValue {
        guard let variable = doc.app.variables.first(where: { $0.id == id }) else { throw QIXFault.notFound("variable", id) }
        let info: JSONValue = ["qId": .string(variable.id), "qType": "variable"]
        let meta = ListItems.meta(title: variable.name, description: variable.comment, tags: variable.tags)
        switch method {
        case "GetLayout":
            var layout: [String: JSONValue] = ["qInfo": info, "qMeta": meta, "qText": .string(variable.definition), "qIsScriptCreated": false]
            if let number = Double(variable.definition) { layout["qNum"] = .number(number) }
            return ["qLayout": .object(layout)]
        case "GetProperties":
            return [
                "qProp": [
                    "qInfo": info, "qName": .string(variable.name), "qDefinition": .string(variable.definition),
                    "qComment": .string(variable.comment), "qMetaDef": meta, "qIncludeInBookmark": false,
                ]
            ]
        case "GetInfo":
            return ["qInfo": info]
        case "GetRawContent":
            return ["qReturn": .string(variable.definition)]
        default:
            throw notImplemented("GenericVariable", method)
        }
    }

    static func measure(_ method: String, _ params: QIXParams, doc: DocSession, id: String) throws -> JSONValue {
        guard let measure = doc.app.measures.first(where: { $0.id == id }) else { throw QIXFault.notFound("measure", id) }
        let info: JSONValue = ["qId": .string(measure.id), "qType": "measure"]
        let meta = ListItems.meta(title: measure.title, description: measure.description, tags: measure.tags)
        let definition: JSONValue = [
            "qLabel": .string(measure.label), "qDef": .string(measure.expression), "qGrouping": "N",
            "qExpressions": [], "qActiveExpression": 0,
        ]
        switch method {
        case "GetLayout": return ["qLayout": ["qInfo": info, "qMeta": meta, "qMeasure": definition]]
        case "GetProperties": return ["qProp": ["qInfo": info, "qMetaDef": meta, "qMeasure": definition]]
        case "GetMeasure": return ["qMeasure": definition]
        case "GetInfo": return ["qInfo": info]
        case "GetLinkedObjects": return ["qItems": .array(linkedObjects(libraryID: id, doc: doc))]
        default: throw notImplemented("GenericMeasure", method)
        }
    }

    static func dimension(_ method: String, _ params: QIXParams, doc: DocSession, id: String) throws -> JSONValue {
        guard let dimension = doc.app.dimensions.first(where: { $0.id == id }) else { throw QIXFault.notFound("dimension", id) }
        let info: JSONValue = ["qId": .string(dimension.id), "qType": "dimension"]
        let meta = ListItems.meta(title: dimension.title, description: dimension.description, tags: dimension.tags)
        let definition: JSONValue = [
            "qGrouping": "N", "qFieldDefs": .array(dimension.fields.map { .string($0) }),
            "qFieldLabels": .array(dimension.fields.map { _ in .string(dimension.title) }),
        ]
        switch method {
        case "GetLayout":
            return [
                "qLayout": [
                    "qInfo": info, "qMeta": meta, "qDim": definition,
                    "qDimInfos": .array(dimension.fields.map { ["qName": .string($0)] }),
                ]
            ]
        case "GetProperties": return ["qProp": ["qInfo": info, "qMetaDef": meta, "qDim": definition]]
        case "GetDimension": return ["qDim": definition]
        case "GetInfo": return ["qInfo": info]
        case "GetLinkedObjects": return ["qItems": .array(linkedObjects(libraryID: id, doc: doc))]
        default: throw notImplemented("GenericDimension", method)
        }
    }

    static func bookmark(_ method: String, _ params: QIXParams, session: QIXSession, doc: DocSession, id: String) throws -> JSONValue {
        guard let bookmark = doc.app.bookmarks.first(where: { $0.id == id }) else { throw QIXFault.notFound("bookmark", id) }
        let info: JSONValue = ["qId": .string(bookmark.id), "qType": "bookmark"]
        let meta = ListItems.meta(title: bookmark.title, description: bookmark.description, tags: [])
        let state: JSONValue = [
            "qStateData": [
                [
                    "qStateName": "$",
                    "qFieldItems": .array(
                        bookmark.selections.map { selection in
                            [
                                "qDef": ["qName": .string(selection.field)], "qSelectInfo": ["qTextSearch": ""],
                                "qValues": .array(selection.values.map { ["qText": .string($0), "qIsNumeric": .bool(Double($0) != nil), "qNumber": .number(Double($0) ?? 0)] }),
                            ]
                        }),
                ]
            ]
        ]
        switch method {
        case "GetLayout": return ["qLayout": ["qInfo": info, "qMeta": meta, "qBookmark": state]]
        case "GetProperties": return ["qProp": ["qInfo": info, "qMetaDef": meta]]
        case "GetInfo": return ["qInfo": info]
        case "Apply":
            let success = doc.apply(bookmark)
            session.pendingChange = true
            return ["qSuccess": .bool(success)]
        default: throw notImplemented("GenericBookmark", method)
        }
    }

    /// App objects whose hypercube uses the master item `libraryID`.
    static func linkedObjects(libraryID: String, doc: DocSession) -> [JSONValue] {
        doc.app.objects.filter { object in
            let cube = object.properties["qHyperCubeDef"]
            let items = (cube?["qDimensions"]?.arrayValue ?? []) + (cube?["qMeasures"]?.arrayValue ?? [])
            return items.contains { $0["qLibraryId"]?.stringValue == libraryID }
        }.map { ["qInfo": ["qId": .string($0.id), "qType": .string($0.type)]] }
    }
}
