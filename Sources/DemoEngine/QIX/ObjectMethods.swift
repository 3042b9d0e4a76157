import JSONCore

/// Methods of GenericObject handles: app objects (sheets, charts) and session objects.
enum ObjectMethods {
    static func call(_ method: String, _ params: QIXParams, session: QIXSession, doc: DocSession, objectID: String) throws -> JSONValue {
        let appObject = doc.app.object(id: objectID)
        guard let properties = appObject?.properties ?? session.sessionObjects[objectID] else {
            throw QIXFault.notFound("object", objectID)
        }
        let children = (appObject?.children ?? []).compactMap { doc.app.object(id: $0) }
        let info: JSONValue = properties["qInfo"] ?? ["qId": .string(objectID), "qType": .string(appObject?.type ?? "session-object")]
        switch method {
        case "GetLayout":
            var layout = try LayoutBuilder.layout(properties: properties, session: doc, children: children)
            if case .object(var object) = layout, appObject?.type == "sheet" {
                object["qChildList"] = [
                    "qItems": .array(
                        children.map { child in
                            ["qInfo": ["qId": .string(child.id), "qType": .string(child.type)], "qData": ["title": child.properties["title"] ?? ""]]
                        })
                ]
                layout = .object(object)
            }
            return ["qLayout": layout]
        case "GetProperties", "GetEffectiveProperties":
            return ["qProp": properties]
        case "GetInfo":
            return ["qInfo": info]
        case "GetChildInfos":
            return ["qInfos": .array(children.map { ["qId": .string($0.id), "qType": .string($0.type)] })]
        case "GetFullPropertyTree":
            return [
                "qPropEntry": [
                    "qProperty": properties,
                    "qChildren": .array(children.map { ["qProperty": $0.properties, "qChildren": [], "qEmbeddedSnapshotRef": .null] }),
                    "qEmbeddedSnapshotRef": .null,
                ]
            ]
        case "GetHyperCubeData":
            let path = try params.string("qPath")
            let definition = try LayoutBuilder.definition(at: path, in: properties)
            return ["qDataPages": .array(try HyperCube(definition: definition, session: doc).pages(try params.array("qPages")))]
        case "GetListObjectData":
            let path = try params.string("qPath")
            let definition = try LayoutBuilder.definition(at: path, in: properties)
            return ["qDataPages": .array(try ListObject(definition: definition, session: doc).pages(try params.array("qPages")))]
        case "SelectListObjectValues":
            let definition = try LayoutBuilder.definition(at: try params.string("qPath"), in: properties)
            let list = try ListObject(definition: definition, session: doc)
            let symbols = try ListObject.symbols(from: try params.array("qValues"))
            try FieldMethods.select(symbols: Set(symbols), field: list.field, toggle: try params.bool("qToggleMode", default: false), session: session, doc: doc)
            return ["qSuccess": true]
        case "SelectHyperCubeValues":
            let definition = try LayoutBuilder.definition(at: try params.string("qPath"), in: properties)
            let dimensionNumber = try params.int("qDimNo")
            let dimensions = definition["qDimensions"]?.arrayValue ?? []
            guard dimensions.indices.contains(dimensionNumber) else {
                throw QIXFault.invalidParams("qDimNo", "dimension \(dimensionNumber) does not exist (the cube has \(dimensions.count))")
            }
            let cube = try HyperCube(definition: ["qDimensions": [dimensions[dimensionNumber]]], session: doc)
            let fieldName = cube.dimensionInfo[0]["qGroupFieldDefs"]?[0]?.stringValue ?? ""
            guard let field = doc.model.field(named: fieldName) else { throw QIXFault.notFound("field", fieldName) }
            let symbols = try ListObject.symbols(from: try params.array("qValues"))
            try FieldMethods.select(symbols: Set(symbols), field: field, toggle: try params.bool("qToggleMode", default: false), session: session, doc: doc)
            return ["qSuccess": true]
        case "SetProperties":
            guard session.sessionObjects[objectID] != nil else {
                throw QIXFault("LOCERR_GENERIC_ACCESS_DENIED", parameter: objectID, message: "the demo engine's app objects are read-only; only session objects can be changed")
            }
            session.sessionObjects[objectID] = try params.object("qProp")
            session.pendingChange = true
            return [:]
        default:
            throw QIXFault("LOCERR_GENERIC_NOT_IMPLEMENTED", parameter: method, message: "GenericObject.\(method) is not implemented by the demo engine")
        }
    }
}
