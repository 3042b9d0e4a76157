import JSONCore

/// Turns generic-object properties into a layout, as the engine does for `GetLayout`: every
/// `q…Def` definition is replaced by its evaluated counterpart, expressions are evaluated, and
/// everything else is copied.
enum LayoutBuilder {
    static func layout(properties: JSONValue, session: DocSession, children: [DemoApp.AppObject] = []) throws -> JSONValue {
        guard case .object(let object) = properties else { return properties }
        var layout: [String: JSONValue] = [:]
        for (key, value) in object {
            switch key {
            case "qHyperCubeDef": layout["qHyperCube"] = try HyperCube(definition: value, session: session).layout(definition: value)
            case "qListObjectDef": layout["qListObject"] = try ListObject(definition: value, session: session).layout(definition: value)
            case "qMeasureListDef": layout["qMeasureList"] = ["qItems": .array(session.app.measures.map(ListItems.measure))]
            case "qDimensionListDef": layout["qDimensionList"] = ["qItems": .array(session.app.dimensions.map(ListItems.dimension))]
            case "qVariableListDef": layout["qVariableList"] = ["qItems": .array(session.app.variables.map(ListItems.variable))]
            case "qBookmarkListDef": layout["qBookmarkList"] = ["qItems": .array(session.app.bookmarks.map(ListItems.bookmark))]
            case "qFieldListDef": layout["qFieldList"] = ["qItems": .array(session.model.fields.map { ListItems.field($0, model: session.model) })]
            case "qAppObjectListDef":
                let type = value["qType"]?.stringValue ?? "sheet"
                layout["qAppObjectList"] = ["qItems": .array(session.app.objects.filter { $0.type == type }.map(ListItems.appObject))]
            case "qChildListDef":
                layout["qChildList"] = [
                    "qItems": .array(
                        children.map { child in
                            [
                                "qInfo": ["qId": .string(child.id), "qType": .string(child.type)],
                                "qData": ["title": child.properties["title"] ?? ""],
                            ]
                        })
                ]
            case "qSelectionObjectDef":
                layout["qSelectionObject"] = selectionObject(session)
            case "qMetaDef":
                layout["qMeta"] = value
            default:
                layout[key] = try evaluateExpressions(value, session: session)
            }
        }
        return .object(layout)
    }

    /// The current selections, as a `qSelectionObject` layout.
    static func selectionObject(_ session: DocSession) -> JSONValue {
        let selections: [JSONValue] = session.selection.selected.keys.sorted().map { index in
            let field = session.model.fields[index]
            let texts = (session.selection.selected[index] ?? []).sorted().map { field.values[Int($0)].text }
            return [
                "qField": .string(field.name), "qSelectedCount": .number(Double(texts.count)),
                "qTotal": .number(Double(field.values.count)),
                "qSelected": .string(texts.count <= 6 ? texts.joined(separator: ", ") : "\(texts.count) of \(field.values.count)"),
                "qSelectedFieldSelectionInfo": .array(texts.prefix(1000).map { ["qName": .string($0), "qFieldSelectionMode": "NORMAL"] }),
                "qLocked": false, "qIsNum": .bool(field.isNumeric),
            ]
        }
        return ["qSelections": .array(selections), "qBackCount": 0, "qForwardCount": 0]
    }

    /// Replaces `{"qStringExpression": "…"}` / `{"qValueExpression": "…"}` by their values.
    private static func evaluateExpressions(_ value: JSONValue, session: DocSession) throws -> JSONValue {
        guard case .object(let object) = value else { return value }
        if let expression = object["qStringExpression"]?.stringValue ?? object["qStringExpression"]?["qExpr"]?.stringValue {
            return .string(try evaluate(expression, session: session)?.text ?? "-")
        }
        if let expression = object["qValueExpression"]?.stringValue ?? object["qValueExpression"]?["qExpr"]?.stringValue {
            return (try evaluate(expression, session: session)?.number).map { .number($0) } ?? .null
        }
        return value
    }

    private static func evaluate(_ expression: String, session: DocSession) throws -> FieldValue? {
        do {
            return try session.evaluate(expression)
        } catch let error as ExpressionError {
            throw QIXFault.expression(error, parameter: expression)
        }
    }

    /// The definition at a `qPath` such as `/qHyperCubeDef` or `/qListObjectDef`.
    static func definition(at path: String, in properties: JSONValue) throws -> JSONValue {
        var current: JSONValue? = properties
        for component in path.split(separator: "/") {
            current = current?[String(component)]
        }
        guard let current, current.objectValue != nil else {
            throw QIXFault.invalidParams("qPath", "nothing at path '\(path)' in this object's properties")
        }
        return current
    }
}

/// Items of the list layouts (measure, dimension, variable, bookmark, field, app-object lists).
enum ListItems {
    static func meta(title: String, description: String, tags: [String]) -> JSONValue {
        ["title": .string(title), "description": .string(description), "tags": .array(tags.map { .string($0) })]
    }

    static func measure(_ m: DemoApp.MasterMeasure) -> JSONValue {
        [
            "qInfo": ["qId": .string(m.id), "qType": "measure"],
            "qMeta": meta(title: m.title, description: m.description, tags: m.tags),
            "qData": [
                "title": .string(m.title), "description": .string(m.description), "expression": .string(m.expression),
                "label": .string(m.label), "tags": .array(m.tags.map { .string($0) }),
            ],
        ]
    }

    static func dimension(_ d: DemoApp.MasterDimension) -> JSONValue {
        [
            "qInfo": ["qId": .string(d.id), "qType": "dimension"],
            "qMeta": meta(title: d.title, description: d.description, tags: d.tags),
            "qData": [
                "title": .string(d.title), "description": .string(d.description), "grouping": "N",
                "info": .array(d.fields.map { ["qName": .string($0), "qTags": []] }),
                "tags": .array(d.tags.map { .string($0) }),
            ],
        ]
    }

    static func variable(_ v: DemoApp.Variable) -> JSONValue {
        [
            "qInfo": ["qId": .string(v.id), "qType": "variable"], "qName": .string(v.name), "qDefinition": .string(v.definition),
            "qDescription": .string(v.comment), "qMeta": meta(title: v.name, description: v.comment, tags: v.tags),
            "qData": ["tags": .array(v.tags.map { .string($0) })], "qIsScriptCreated": false,
        ]
    }

    static func bookmark(_ b: DemoApp.Bookmark) -> JSONValue {
        [
            "qInfo": ["qId": .string(b.id), "qType": "bookmark"], "qMeta": meta(title: b.title, description: b.description, tags: []),
            "qData": ["title": .string(b.title), "description": .string(b.description)],
        ]
    }

    static func field(_ f: DataModel.Field, model: DataModel) -> JSONValue {
        [
            "qName": .string(f.name), "qCardinal": .number(Double(f.values.count)),
            "qTags": .array((f.isKey ? ["$key"] : []) + (f.isNumeric ? ["$numeric"] : ["$text"])),
            "qSrcTables": .array(f.locations.map { .string(model.tables[$0.table].name) }),
            "qIsSystem": false, "qIsHidden": false, "qIsSemantic": false,
        ]
    }

    static func appObject(_ o: DemoApp.AppObject) -> JSONValue {
        let meta = o.properties["qMetaDef"] ?? ["title": o.properties["title"] ?? ""]
        return [
            "qInfo": ["qId": .string(o.id), "qType": .string(o.type)], "qMeta": meta,
            "qData": [
                "rank": o.properties["rank"] ?? 0, "cells": o.properties["cells"] ?? [],
                "title": meta["title"] ?? "", "description": meta["description"] ?? "",
            ],
        ]
    }
}
