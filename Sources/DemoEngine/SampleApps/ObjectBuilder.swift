import JSONCore

/// Builds the JSON properties of sheets and charts the way Qlik Sense stores them.
enum ObjectBuilder {
    enum Dim {
        case field(String, label: String? = nil)
        case library(String)
    }

    enum Measure {
        case expression(String, label: String)
        case library(String)
    }

    static func chart(
        id: String, type: String, title: String, dimensions: [Dim], measures: [Measure],
        sortByMeasure: Bool = false
    ) -> DemoApp.AppObject {
        let dims: [JSONValue] = dimensions.map { dim in
            switch dim {
            case .field(let field, let label):
                return [
                    "qDef": [
                        "qFieldDefs": [.string(field)], "qFieldLabels": [.string(label ?? field)],
                        "qSortCriterias": [["qSortByAscii": 1, "qSortByNumeric": 1]],
                    ],
                    "qNullSuppression": false,
                ]
            case .library(let id):
                return ["qLibraryId": .string(id), "qDef": ["qFieldDefs": [], "qSortCriterias": [["qSortByAscii": 1, "qSortByNumeric": 1]]]]
            }
        }
        let meas: [JSONValue] = measures.map { measure in
            switch measure {
            case .expression(let expression, let label):
                return ["qDef": ["qDef": .string(expression), "qLabel": .string(label)], "qSortBy": ["qSortByNumeric": -1]]
            case .library(let id):
                return ["qLibraryId": .string(id), "qDef": ["qDef": "", "qLabel": ""], "qSortBy": ["qSortByNumeric": -1]]
            }
        }
        let columns = dimensions.count + measures.count
        let order: [JSONValue] =
            (sortByMeasure
            ? [dimensions.count] + Array(0..<dimensions.count) + Array((dimensions.count + 1)..<columns)
            : Array(0..<columns)).map { .number(Double($0)) }
        let properties: JSONValue = [
            "qInfo": ["qId": .string(id), "qType": .string(type)],
            "visualization": .string(type),
            "title": .string(title),
            "qHyperCubeDef": [
                "qDimensions": .array(dims),
                "qMeasures": .array(meas),
                "qInterColumnSortOrder": .array(order),
                "qInitialDataFetch": [["qTop": 0, "qLeft": 0, "qWidth": .number(Double(columns)), "qHeight": 50]],
                "qSuppressZero": false,
                "qMode": "S",
            ],
        ]
        return DemoApp.AppObject(id: id, type: type, properties: properties, children: [])
    }

    static func sheet(
        id: String, title: String, description: String, rank: Int,
        cells: [(object: DemoApp.AppObject, col: Int, row: Int, colspan: Int, rowspan: Int)]
    ) -> DemoApp.AppObject {
        let cellJSON: [JSONValue] = cells.map { cell in
            [
                "name": .string(cell.object.id), "type": .string(cell.object.type),
                "col": .number(Double(cell.col)), "row": .number(Double(cell.row)),
                "colspan": .number(Double(cell.colspan)), "rowspan": .number(Double(cell.rowspan)),
            ]
        }
        let properties: JSONValue = [
            "qInfo": ["qId": .string(id), "qType": "sheet"],
            "qMetaDef": ["title": .string(title), "description": .string(description)],
            "rank": .number(Double(rank)),
            "columns": 24, "rows": 12,
            "cells": .array(cellJSON),
        ]
        return DemoApp.AppObject(id: id, type: "sheet", properties: properties, children: cells.map(\.object.id))
    }
}
