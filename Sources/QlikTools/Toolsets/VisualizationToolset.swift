import Foundation
import JSONCore
import QlikEngine

/// The `visualization` toolset: sheets, their objects, object data, and bookmarks.
enum VisualizationToolset {
    static let toolset = Toolset(
        name: "visualization",
        description: "Sheets and their charts and tables, the data behind an object, and bookmarks.",
        tools: [listSheets, getSheet, getObject, getObjectData, listBookmarks, applyBookmark])

    static let appID = DataModelToolset.appID
    static let maxRows = 1_000

    static let listSheets = QlikTool(
        name: "list_sheets",
        title: "List sheets",
        description: "Lists the app's sheets (dashboards pages) with id, title, description and how many objects each holds. Use get_sheet to see a sheet's charts and tables.",
        toolset: "visualization",
        input: .object("Arguments.", properties: [appID], required: ["app_id"]),
        output: .object(
            "Sheets.",
            properties: [
                (
                    "sheets",
                    .array(
                        "Sheets in display order.",
                        items: .object(
                            "A sheet.",
                            properties: [
                                ("id", .string("Sheet id.")), ("title", .string("Title.")), ("description", .string("Description.")),
                                ("object_count", .integer("Objects on the sheet.", minimum: 0, maximum: Int.max)),
                            ], required: ["id", "title", "object_count"]), maxItems: 10_000)
                )
            ], required: ["sheets"])
    ) { arguments, context in
        try await context.backend.withDoc(arguments.required("app_id"), tag: context.sessionID) { doc, _ in
            let items =
                try await doc.sessionLayout([
                    "qInfo": ["qType": "mcp-sheet-list"],
                    "qAppObjectListDef": ["qType": "sheet", "qData": ["title": "/qMetaDef/title", "description": "/qMetaDef/description", "rank": "/rank", "cells": "/cells"]],
                ])["qAppObjectList"]?["qItems"]?.arrayValue ?? []
            let sheets: [JSONValue] = items.sorted { ($0["qData"]?["rank"]?.doubleValue ?? 0) < ($1["qData"]?["rank"]?.doubleValue ?? 0) }.map { item in
                [
                    "id": item["qInfo"]?["qId"] ?? "", "title": item["qMeta"]?["title"] ?? item["qData"]?["title"] ?? "",
                    "description": item["qMeta"]?["description"] ?? item["qData"]?["description"] ?? "",
                    "object_count": .number(Double(item["qData"]?["cells"]?.arrayValue?.count ?? 0)),
                ]
            }
            return ToolOutput(
                structured: ["sheets": .array(sheets)],
                text: TextTable.render(
                    headers: ["id", "title", "objects"],
                    rows: sheets.map {
                        [$0["id"]?.stringValue ?? "", $0["title"]?.stringValue ?? "", String($0["object_count"]?.intValue ?? 0)]
                    }))
        }
    }

    /// Opens an object; not_found with suggestions from the app's object ids.
    static func object(_ id: String, doc: Doc) async throws -> GenericObject {
        do {
            return try await doc.object(id)
        } catch let error as QIXError where error.code == 2 {
            let ids = try await doc.allInfos().compactMap { $0["qId"]?.stringValue }
            throw ToolError.notFound("object", id, candidates: ids, listTool: "list_sheets and get_sheet")
        }
    }

    static let getSheet = QlikTool(
        name: "get_sheet",
        title: "Describe a sheet",
        description: "Returns a sheet's title, description and objects: each chart or table with its id, type, title and grid position.",
        toolset: "visualization",
        input: .object("Arguments.", properties: [appID, ("sheet_id", .string("Sheet id from list_sheets.", maxLength: 500))], required: ["app_id", "sheet_id"]),
        output: .object(
            "The sheet.",
            properties: [
                ("id", .string("Sheet id.")), ("title", .string("Title.")), ("description", .string("Description.")),
                (
                    "objects",
                    .array(
                        "Objects on the sheet.",
                        items: .object(
                            "An object.",
                            properties: [
                                ("id", .string("Object id.")), ("type", .string("Visualization type.")), ("title", .string("Title.")),
                                ("col", .integer("Grid column.", minimum: 0, maximum: 10_000)), ("row", .integer("Grid row.", minimum: 0, maximum: 10_000)),
                                ("colspan", .integer("Width in columns.", minimum: 0, maximum: 10_000)), ("rowspan", .integer("Height in rows.", minimum: 0, maximum: 10_000)),
                            ], required: ["id", "type"]), maxItems: 10_000)
                ),
            ], required: ["id", "title", "objects"])
    ) { arguments, context in
        let sheetID = arguments.required("sheet_id")
        return try await context.backend.withDoc(arguments.required("app_id"), tag: context.sessionID) { doc, _ in
            let sheet = try await object(sheetID, doc: doc)
            let properties = try await sheet.properties()
            guard properties["qInfo"]?["qType"]?.stringValue == "sheet" else {
                throw ToolError(
                    code: "NOT_A_SHEET", category: .invalidArgument, message: "'\(sheetID)' is a \(properties["qInfo"]?["qType"]?.stringValue ?? "object"), not a sheet",
                    remediation: "use get_object for charts and tables; list_sheets for sheet ids")
            }
            let tree = try await sheet.fullPropertyTree()
            let titles = Dictionary(
                (tree["qChildren"]?.arrayValue ?? []).compactMap { child -> (String, String)? in
                    guard let id = child["qProperty"]?["qInfo"]?["qId"]?.stringValue else { return nil }
                    return (id, child["qProperty"]?["title"]?.stringValue ?? "")
                }, uniquingKeysWith: { first, _ in first })
            let objects: [JSONValue] = (properties["cells"]?.arrayValue ?? []).map { cell in
                let id = cell["name"]?.stringValue ?? ""
                return [
                    "id": .string(id), "type": cell["type"] ?? "", "title": .string(titles[id] ?? ""),
                    "col": cell["col"] ?? 0, "row": cell["row"] ?? 0, "colspan": cell["colspan"] ?? 0, "rowspan": cell["rowspan"] ?? 0,
                ]
            }
            let title = properties["qMetaDef"]?["title"] ?? ""
            return ToolOutput(
                structured: ["id": .string(sheetID), "title": title, "description": properties["qMetaDef"]?["description"] ?? "", "objects": .array(objects)],
                text: "\(title.stringValue ?? sheetID)\n"
                    + TextTable.render(
                        headers: ["id", "type", "title", "position"],
                        rows: objects.map {
                            [
                                $0["id"]?.stringValue ?? "", $0["type"]?.stringValue ?? "", $0["title"]?.stringValue ?? "",
                                "col \($0["col"]?.intValue ?? 0), row \($0["row"]?.intValue ?? 0), \($0["colspan"]?.intValue ?? 0)×\($0["rowspan"]?.intValue ?? 0)",
                            ]
                        }))
        }
    }

    static let getObject = QlikTool(
        name: "get_object",
        title: "Describe an object",
        description: "Describes a chart or table: its type, title, dimensions and measures with their expressions (master items resolved), so you know what it shows.",
        toolset: "visualization",
        input: .object("Arguments.", properties: [appID, ("object_id", .string("Object id from get_sheet.", maxLength: 500))], required: ["app_id", "object_id"]),
        output: .object(
            "The object.",
            properties: [
                ("id", .string("Object id.")), ("type", .string("Visualization type.")), ("title", .string("Title.")),
                (
                    "dimensions",
                    .array(
                        "Dimensions.",
                        items: .object(
                            "A dimension.",
                            properties: [
                                ("label", .string("Label.")), ("field", .string("Field.")), ("master_id", .string("Master dimension id.")),
                            ], required: ["label"]), maxItems: 100)
                ),
                (
                    "measures",
                    .array(
                        "Measures.",
                        items: .object(
                            "A measure.",
                            properties: [
                                ("label", .string("Label.")), ("expression", .string("Expression.")), ("master_id", .string("Master measure id.")),
                            ], required: ["label", "expression"]), maxItems: 100)
                ),
            ], required: ["id", "type", "dimensions", "measures"])
    ) { arguments, context in
        let objectID = arguments.required("object_id")
        return try await context.backend.withDoc(arguments.required("app_id"), tag: context.sessionID) { doc, _ in
            let target = try await object(objectID, doc: doc)
            let properties = try await target.properties()
            let cube = properties["qHyperCubeDef"]
            let masterMeasures = try await AnalyticsSupport.masterItems("measure", doc: doc)
            let masterDimensions = try await AnalyticsSupport.masterItems("dimension", doc: doc)
            let dimensions: [JSONValue] = (cube?["qDimensions"]?.arrayValue ?? []).map { dim in
                if let id = dim["qLibraryId"]?.stringValue, !id.isEmpty, let master = masterDimensions.first(where: { $0["qInfo"]?["qId"]?.stringValue == id }) {
                    return ["label": master["qMeta"]?["title"] ?? .string(id), "field": master["qData"]?["info"]?[0]?["qName"] ?? "", "master_id": .string(id)]
                }
                let field = dim["qDef"]?["qFieldDefs"]?[0]?.stringValue ?? ""
                return ["label": .string(dim["qDef"]?["qFieldLabels"]?[0]?.stringValue ?? field), "field": .string(field)]
            }
            let measures: [JSONValue] = (cube?["qMeasures"]?.arrayValue ?? []).map { measure in
                if let id = measure["qLibraryId"]?.stringValue, !id.isEmpty, let master = masterMeasures.first(where: { $0["qInfo"]?["qId"]?.stringValue == id }) {
                    return ["label": master["qData"]?["label"] ?? master["qMeta"]?["title"] ?? .string(id), "expression": master["qData"]?["expression"] ?? "", "master_id": .string(id)]
                }
                let expression = measure["qDef"]?["qDef"]?.stringValue ?? ""
                let label = measure["qDef"]?["qLabel"]?.stringValue ?? ""
                return ["label": .string(label.isEmpty ? expression : label), "expression": .string(expression)]
            }
            let type = properties["visualization"] ?? properties["qInfo"]?["qType"] ?? ""
            let title = properties["title"]?.stringValue ?? properties["qMetaDef"]?["title"]?.stringValue ?? ""
            var lines = ["\(title) (\(type.stringValue ?? ""))"]
            lines += dimensions.map { "dimension: \($0["label"]?.stringValue ?? "") [\($0["field"]?.stringValue ?? "")]" }
            lines += measures.map { "measure: \($0["label"]?.stringValue ?? "") = \($0["expression"]?.stringValue ?? "")" }
            return ToolOutput(
                structured: [
                    "id": .string(objectID), "type": type, "title": .string(title),
                    "dimensions": .array(dimensions), "measures": .array(measures),
                ],
                text: lines.joined(separator: "\n"))
        }
    }

    static let getObjectData = QlikTool(
        name: "get_object_data",
        title: "Object data",
        description: "Returns the data a chart or table shows, under this session's current selections, page by page (limit + cursor), with its column titles and totals.",
        toolset: "visualization",
        input: .object(
            "Arguments.",
            properties: [
                appID, ("object_id", .string("Object id from get_sheet.", maxLength: 500)),
                ("limit", .integer("Rows per page.", minimum: 1, maximum: maxRows, defaultValue: 100)),
                ("cursor", .string("next_cursor of the previous page.", maxLength: 200)),
            ], required: ["app_id", "object_id"]),
        output: QueryDataTool.tool.output
    ) { arguments, context in
        let objectID = arguments.required("object_id")
        let offset = try Cursor.decode(arguments.string("cursor"))
        return try await context.backend.withDoc(arguments.required("app_id"), tag: context.sessionID) { doc, _ in
            let target = try await object(objectID, doc: doc)
            let layout = try await target.layout()
            guard let cube = layout["qHyperCube"] else {
                throw ToolError(
                    code: "NO_DATA", category: .unsupported, message: "'\(objectID)' shows no data table (it is a \(layout["qInfo"]?["qType"]?.stringValue ?? "container"))",
                    remediation: "use get_sheet to find its charts and tables")
            }
            let width = cube["qSize"]?["qcx"]?.intValue ?? 0
            let dimensionCount = cube["qDimensionInfo"]?.arrayValue?.count ?? 0
            return try await QueryDataTool.read(
                cube: target, layout: layout, width: width, dimensionCount: dimensionCount,
                offset: offset, limit: arguments.int("limit") ?? 100)
        }
    }

    static func bookmarkItems(_ doc: Doc) async throws -> [JSONValue] {
        try await doc.sessionLayout([
            "qInfo": ["qType": "mcp-bookmarks"],
            "qBookmarkListDef": ["qType": "bookmark", "qData": ["title": "/qMetaDef/title", "description": "/qMetaDef/description"]],
        ])["qBookmarkList"]?["qItems"]?.arrayValue ?? []
    }

    static let listBookmarks = QlikTool(
        name: "list_bookmarks",
        title: "List bookmarks",
        description: "Lists the app's bookmarks — saved selection states — with id, title and description.",
        toolset: "visualization",
        input: .object("Arguments.", properties: [appID], required: ["app_id"]),
        output: .object(
            "Bookmarks.",
            properties: [
                (
                    "bookmarks",
                    .array(
                        "Bookmarks.",
                        items: .object(
                            "A bookmark.",
                            properties: [
                                ("id", .string("Bookmark id.")), ("title", .string("Title.")), ("description", .string("Description.")),
                            ], required: ["id", "title"]), maxItems: 10_000)
                )
            ], required: ["bookmarks"])
    ) { arguments, context in
        try await context.backend.withDoc(arguments.required("app_id"), tag: context.sessionID) { doc, _ in
            let items = try await bookmarkItems(doc)
            let bookmarks: [JSONValue] = items.map {
                ["id": $0["qInfo"]?["qId"] ?? "", "title": $0["qMeta"]?["title"] ?? "", "description": $0["qMeta"]?["description"] ?? ""]
            }
            return ToolOutput(
                structured: ["bookmarks": .array(bookmarks)],
                text: TextTable.render(
                    headers: ["id", "title", "description"],
                    rows: bookmarks.map {
                        [$0["id"]?.stringValue ?? "", $0["title"]?.stringValue ?? "", $0["description"]?.stringValue ?? ""]
                    }))
        }
    }

    static let applyBookmark = QlikTool(
        name: "apply_bookmark",
        title: "Apply a bookmark",
        description: "Applies a bookmark's selections to this session (replacing its current selections) and returns the resulting selections.",
        toolset: "visualization",
        input: .object(
            "Arguments.", properties: [appID, ("bookmark_id", .string("Bookmark id or title from list_bookmarks.", maxLength: 500))],
            required: ["app_id", "bookmark_id"]),
        output: SelectionTools.selectionsOutput
    ) { arguments, context in
        let reference = arguments.required("bookmark_id")
        return try await context.backend.withDoc(arguments.required("app_id"), tag: context.sessionID) { doc, _ in
            let items = try await bookmarkItems(doc)
            let found = try AnalyticsSupport.resolveMaster(reference, kind: "bookmark", items: items, listTool: "list_bookmarks")
            guard try await doc.applyBookmark(found["qInfo"]?["qId"]?.stringValue ?? reference) else {
                throw ToolError(
                    code: "BOOKMARK_NOT_APPLIED", category: .engineError, message: "the engine could not apply '\(reference)'",
                    remediation: "the bookmark may refer to fields that no longer exist")
            }
            let selections = try await AnalyticsSupport.selections(doc)
            return ToolOutput(structured: ["selections": .array(selections)], text: SelectionTools.render(selections))
        }
    }
}
