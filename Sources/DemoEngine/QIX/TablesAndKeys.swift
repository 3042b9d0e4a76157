import JSONCore

/// The data-model views: `GetTablesAndKeys`, `GetFieldDescription` and `GetTableData`.
enum TablesAndKeys {
    static func json(doc: DocSession) -> JSONValue {
        let model = doc.model
        let tables: [JSONValue] = model.tables.enumerated().map { t, table in
            let fields: [JSONValue] = table.fieldNames.enumerated().map { c, name in
                let field = model.field(named: name)!
                let distinct = table.symbols[c].count
                let keyType: String = !field.isKey ? "NOT_KEY" : (distinct == table.rowCount ? "PRIMARY_KEY" : "ANY_KEY")
                return [
                    "qName": .string(name), "qOriginalFields": [], "qPresent": true, "qHasNull": false, "qHasWild": false,
                    "qHasDuplicates": .bool(distinct < table.rowCount), "qIsSynthetic": false,
                    "qInformationDensity": 1, "qnNonNulls": .number(Double(table.rowCount)), "qnRows": .number(Double(table.rowCount)),
                    "qSubsetRatio": .number(field.values.isEmpty ? 0 : Double(distinct) / Double(field.values.count)),
                    "qnTotalDistinctValues": .number(Double(field.values.count)), "qnPresentDistinctValues": .number(Double(distinct)),
                    "qKeyType": .string(keyType), "qComment": "", "qTags": .array(tagList(field)),
                ]
            }
            return [
                "qName": .string(table.name), "qNoOfRows": .number(Double(table.rowCount)), "qFields": .array(fields),
                "qIsSynthetic": false, "qIsLoose": false, "qIsDirectDiscovery": false, "qComment": "",
                "qKeyFields": .array(table.fieldNames.filter { model.field(named: $0)!.isKey }.map { .string($0) }),
            ]
        }
        let keys: [JSONValue] = model.fields.filter(\.isKey).map { field in
            ["qTables": .array(field.locations.map { .string(model.tables[$0.table].name) }), "qKeyFields": [.string(field.name)]]
        }
        return ["qtr": .array(tables), "qk": .array(keys)]
    }

    static func tagList(_ field: DataModel.Field) -> [JSONValue] {
        var tags: [JSONValue] = []
        if field.isKey { tags.append("$key") }
        tags.append(field.isNumeric ? "$numeric" : "$text")
        if field.values.allSatisfy({ $0.number.map { $0.rounded() == $0 } ?? false }) { tags.append("$integer") }
        return tags
    }

    static func fieldDescription(_ field: DataModel.Field, doc: DocSession) -> JSONValue {
        let model = doc.model
        return [
            "qInternalNumber": .number(Double(field.index)), "qName": .string(field.name),
            "qSrcTables": .array(field.locations.map { .string(model.tables[$0.table].name) }),
            "qIsSystem": false, "qIsHidden": false, "qIsSemantic": false, "qDistinctOnly": false,
            "qCardinal": .number(Double(field.values.count)),
            "qTotalCount": .number(Double(field.locations.reduce(0) { $0 + model.tables[$1.table].rowCount })),
            "qIsLocked": false, "qAlwaysOneSelected": false, "qAndMode": false, "qIsNumeric": .bool(field.isNumeric),
            "qComment": "", "qTags": .array(tagList(field)), "qIsDefinitionOnly": false,
            "qByteSize": .number(Double(field.values.reduce(0) { $0 + $1.text.utf8.count + 8 })),
        ]
    }

    static func tableData(_ params: QIXParams, doc: DocSession) throws -> JSONValue {
        let name = try params.string("qTableName")
        guard let table = doc.model.tables.first(where: { $0.name == name }) else { throw QIXFault.notFound("table", name) }
        let offset = try params.int("qOffset")
        let rows = try params.int("qRows")
        guard offset >= 0, rows >= 0 else { throw QIXFault.invalidParams("qOffset", "qOffset and qRows must be non-negative") }
        guard rows * table.fieldNames.count <= HyperCube.maxCellsPerRequest else {
            throw QIXFault("LOCERR_CALC_PAGES_TOO_LARGE", parameter: "qRows", message: "at most \(HyperCube.maxCellsPerRequest / max(1, table.fieldNames.count)) rows of this table per request")
        }
        var data: [JSONValue] = [["qValue": .array(table.fieldNames.map { ["qText": .string($0), "qIsNumeric": false, "qNumber": 0] })]]
        let end = min(table.rowCount, offset + rows)
        if offset < end {
            for row in offset..<end {
                data.append([
                    "qValue": .array(
                        (0..<table.fieldNames.count).map { column in
                            let value = table.value(row: row, column: column)
                            return ["qText": .string(value.text), "qIsNumeric": .bool(value.number != nil), "qNumber": .number(value.number ?? 0)]
                        })
                ])
            }
        }
        return ["qData": .array(data)]
    }
}
