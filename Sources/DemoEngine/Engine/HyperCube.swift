import Foundation
import JSONCore

/// A hypercube definition (`qHyperCubeDef`) evaluated against a session: resolved dimensions and
/// measures, sorted rows, totals, and the JSON Qlik clients expect.
struct HyperCube {
    struct Cell {
        let text: String
        let number: Double?
        let elemNumber: Int
        let state: String
        let isNull: Bool

        var json: JSONValue {
            var object: [String: JSONValue] = [
                "qText": .string(text), "qNum": number.map { .number($0) } ?? "NaN",
                "qElemNumber": .number(Double(elemNumber)), "qState": .string(state),
            ]
            if isNull { object["qIsNull"] = true }
            return .object(object)
        }
    }

    /// Most cells one data-page request may ask for (Qlik's limit too).
    static let maxCellsPerRequest = 10_000

    let dimensionInfo: [JSONValue]
    let measureInfo: [JSONValue]
    let rows: [[Cell]]
    let totals: [Cell]
    let columnOrder: [Int]

    var width: Int { dimensionInfo.count + measureInfo.count }

    init(definition: JSONValue, session: DocSession) throws {
        let model = session.model
        let app = session.app
        let dimensionDefs = definition["qDimensions"]?.arrayValue ?? []
        let measureDefs = definition["qMeasures"]?.arrayValue ?? []
        var dimensionFields: [DataModel.Field] = []
        var dimensionInfo: [JSONValue] = []
        var dimensionSorts: [JSONValue?] = []
        for (index, dim) in dimensionDefs.enumerated() {
            var fieldName: String?
            var label: String?
            var libraryID: String?
            if let id = dim["qLibraryId"]?.stringValue, !id.isEmpty {
                guard let master = app.dimensions.first(where: { $0.id == id }) else {
                    throw QIXFault.notFound("master dimension", id)
                }
                fieldName = master.fields.first
                label = master.title
                libraryID = id
            } else {
                fieldName = dim["qDef"]?["qFieldDefs"]?[0]?.stringValue
                label = dim["qDef"]?["qFieldLabels"]?[0]?.stringValue
            }
            guard var name = fieldName, !name.isEmpty else {
                throw QIXFault.invalidParams("qDimensions[\(index)]", "dimension \(index) has no field (qDef.qFieldDefs[0]) or qLibraryId")
            }
            if name.hasPrefix("=") {
                throw QIXFault("LOCERR_GENERIC_NOT_IMPLEMENTED", parameter: "qDimensions[\(index)]", message: "calculated dimensions ('\(name)') are not supported by the demo engine")
            }
            if name.hasPrefix("[") && name.hasSuffix("]") { name = String(name.dropFirst().dropLast()).replacingOccurrences(of: "]]", with: "]") }
            guard let field = model.field(named: name) else {
                throw QIXFault.invalidParams("qDimensions[\(index)]", "unknown field '\(name)' in dimension \(index)")
            }
            dimensionFields.append(field)
            dimensionSorts.append(dim["qDef"]?["qSortCriterias"]?[0])
            let numbers = field.values.compactMap(\.number)
            var info: [String: JSONValue] = [
                "qFallbackTitle": .string(label.flatMap { $0.isEmpty ? nil : $0 } ?? field.name),
                "qCardinal": .number(Double(field.values.count)),
                "qGroupFieldDefs": [.string(field.name)],
                "qSortIndicator": "A", "qGrouping": "N", "qDimensionType": field.isNumeric ? "N" : "D",
                "qApprMaxGlyphCount": .number(Double(field.values.map(\.text.count).max() ?? 0)),
                "qMin": numbers.min().map { .number($0) } ?? "NaN", "qMax": numbers.max().map { .number($0) } ?? "NaN",
                "qTags": .array(field.isKey ? ["$key"] : []),
            ]
            if let libraryID { info["qLibraryId"] = .string(libraryID) }
            dimensionInfo.append(.object(info))
        }
        var measureExprs: [Expr] = []
        var measureLabels: [String] = []
        var measureSorts: [Int] = []
        var libraryIDs: [String?] = []
        for (index, measure) in measureDefs.enumerated() {
            var expression = measure["qDef"]?["qDef"]?.stringValue ?? ""
            var label = measure["qDef"]?["qLabel"]?.stringValue ?? ""
            var libraryID: String?
            if let id = measure["qLibraryId"]?.stringValue, !id.isEmpty {
                guard let master = app.measures.first(where: { $0.id == id }) else { throw QIXFault.notFound("master measure", id) }
                expression = master.expression
                if label.isEmpty { label = master.label }
                libraryID = id
            }
            guard !expression.isEmpty else {
                throw QIXFault.invalidParams("qMeasures[\(index)]", "measure \(index) has no expression (qDef.qDef) or qLibraryId")
            }
            do {
                measureExprs.append(try session.parse(expression))
            } catch let error as ExpressionError {
                throw QIXFault.expression(error, parameter: "qMeasures[\(index)]")
            }
            measureLabels.append(label.isEmpty ? expression : label)
            measureSorts.append(measure["qSortBy"]?["qSortByNumeric"]?.intValue ?? 0)
            libraryIDs.append(libraryID)
        }
        let evaluator = session.evaluator
        let result: CubeEvaluator.Result
        let totals: [FieldValue?]
        do {
            result = try evaluator.evaluate(dimensions: dimensionFields.map(\.index), measures: measureExprs)
            totals = measureExprs.isEmpty ? [] : try evaluator.evaluate(dimensions: [], measures: measureExprs).values[0]
        } catch let error as ExpressionError {
            throw QIXFault.expression(error, parameter: "qMeasures")
        }
        // Rows as cells.
        var rows: [[Cell]] = []
        rows.reserveCapacity(result.groups.count)
        for (groupIndex, group) in result.groups.enumerated() {
            var row: [Cell] = []
            for (d, symbol) in group.enumerated() {
                if symbol < 0 {
                    row.append(Cell(text: "-", number: nil, elemNumber: -2, state: "O", isNull: true))
                } else {
                    let value = dimensionFields[d].values[Int(symbol)]
                    row.append(Cell(text: value.text, number: value.number, elemNumber: Int(symbol), state: "O", isNull: false))
                }
            }
            for value in result.values[groupIndex] { row.append(Self.measureCell(value)) }
            rows.append(row)
        }
        // Sorting by qInterColumnSortOrder.
        let width = dimensionFields.count + measureExprs.count
        var order = (definition["qInterColumnSortOrder"]?.arrayValue ?? []).compactMap(\.intValue).filter { $0 >= 0 && $0 < width }
        if order.isEmpty { order = Array(0..<width) }
        let dimCount = dimensionFields.count
        rows.sort { a, b in
            for column in order {
                let comparison: Int
                if column < dimCount {
                    comparison = Self.compareDimension(a[column], b[column], criteria: dimensionSorts[column], numeric: dimensionFields[column].isNumeric)
                } else {
                    let sign = measureSorts[column - dimCount]
                    guard sign != 0 else { continue }
                    comparison = Self.compareNumbers(a[column].number, b[column].number) * sign
                }
                if comparison != 0 { return comparison < 0 }
            }
            return false
        }
        self.rows = rows
        self.totals = totals.map(Self.measureCell)
        self.columnOrder = order
        self.dimensionInfo = dimensionInfo
        self.measureInfo = measureExprs.indices.map { index in
            let values = rows.compactMap { $0[dimCount + index].number }
            var info: [String: JSONValue] = [
                "qFallbackTitle": .string(measureLabels[index]), "qApprMaxGlyphCount": 12, "qCardinal": 0,
                "qSortIndicator": measureSorts[index] < 0 ? "D" : (measureSorts[index] > 0 ? "A" : "N"),
                "qMin": values.min().map { .number($0) } ?? "NaN", "qMax": values.max().map { .number($0) } ?? "NaN",
                "qNumFormat": ["qType": "U", "qnDec": 10, "qUseThou": 0], "qIsAutoFormat": true,
            ]
            if let id = libraryIDs[index] { info["qLibraryId"] = .string(id) }
            return .object(info)
        }
    }

    static func measureCell(_ value: FieldValue?) -> Cell {
        guard let value else { return Cell(text: "-", number: nil, elemNumber: 0, state: "L", isNull: true) }
        if let number = value.number {
            return Cell(text: NumberFormatting.text(number), number: number, elemNumber: 0, state: "L", isNull: false)
        }
        return Cell(text: value.text, number: nil, elemNumber: 0, state: "L", isNull: false)
    }

    private static func compareNumbers(_ a: Double?, _ b: Double?) -> Int {
        switch (a, b) {
        case (let x?, let y?): return x < y ? -1 : (x > y ? 1 : 0)
        case (nil, nil): return 0
        case (nil, _): return 1  // nulls last
        case (_, nil): return -1
        }
    }

    private static func compareDimension(_ a: Cell, _ b: Cell, criteria: JSONValue?, numeric: Bool) -> Int {
        let byNumeric = criteria?["qSortByNumeric"]?.intValue ?? (criteria == nil && numeric ? 1 : 0)
        let byAscii = criteria?["qSortByAscii"]?.intValue ?? (criteria == nil ? 1 : 0)
        if byNumeric != 0, a.number != nil || b.number != nil {
            let c = compareNumbers(a.number, b.number)
            if c != 0 { return c * byNumeric }
        }
        if byAscii != 0 {
            let c = a.text.localizedStandardCompare(b.text)
            if c != .orderedSame { return (c == .orderedAscending ? -1 : 1) * byAscii }
        }
        return a.elemNumber < b.elemNumber ? -1 : (a.elemNumber > b.elemNumber ? 1 : 0)
    }

    /// The requested pages as `qDataPages` JSON.
    func pages(_ requests: [JSONValue]) throws -> [JSONValue] {
        var cells = 0
        var pages: [JSONValue] = []
        for (index, page) in requests.enumerated() {
            guard let top = page["qTop"]?.intValue, let left = page["qLeft"]?.intValue,
                let pageWidth = page["qWidth"]?.intValue, let height = page["qHeight"]?.intValue,
                top >= 0, left >= 0, pageWidth >= 0, height >= 0
            else {
                throw QIXFault.invalidParams("qPages[\(index)]", "a page needs non-negative integers qTop, qLeft, qWidth and qHeight")
            }
            cells += pageWidth * height
            guard cells <= Self.maxCellsPerRequest else {
                throw QIXFault("LOCERR_CALC_PAGES_TOO_LARGE", parameter: "qPages", message: "the pages ask for \(cells) cells; at most \(Self.maxCellsPerRequest) per request")
            }
            let rowEnd = min(rows.count, top + height)
            let colEnd = min(width, left + pageWidth)
            var matrix: [JSONValue] = []
            if top < rowEnd && left < colEnd {
                for row in rows[top..<rowEnd] { matrix.append(.array(row[left..<colEnd].map(\.json))) }
            }
            pages.append([
                "qMatrix": .array(matrix), "qTails": [], "qIsReduced": false,
                "qArea": [
                    "qTop": .number(Double(top)), "qLeft": .number(Double(left)),
                    "qWidth": .number(Double(max(0, colEnd - left))), "qHeight": .number(Double(max(0, rowEnd - top))),
                ],
            ])
        }
        return pages
    }

    /// The `qHyperCube` layout, with pages from `qInitialDataFetch`.
    func layout(definition: JSONValue) throws -> JSONValue {
        [
            "qSize": ["qcx": .number(Double(width)), "qcy": .number(Double(rows.count))],
            "qDimensionInfo": .array(dimensionInfo),
            "qMeasureInfo": .array(measureInfo),
            "qEffectiveInterColumnSortOrder": .array(columnOrder.map { .number(Double($0)) }),
            "qGrandTotalRow": .array(totals.map(\.json)),
            "qDataPages": .array(try pages(definition["qInitialDataFetch"]?.arrayValue ?? [])),
            "qMode": "S", "qNoOfLeftDims": -1, "qTitle": "",
        ]
    }
}
