import Foundation
import JSONCore

/// A list object (`qListObjectDef`): a field's values with their selection states
/// (S selected, O possible, A alternative, X excluded) and frequencies.
struct ListObject {
    let field: DataModel.Field
    let label: String
    /// (symbol, state, frequency) in display order.
    let items: [(symbol: Int, state: String, frequency: Int)]
    let counts: [String: Int]
    let withFrequency: Bool

    init(definition: JSONValue, session: DocSession) throws {
        let app = session.app
        var fieldName = definition["qDef"]?["qFieldDefs"]?[0]?.stringValue
        var label = definition["qDef"]?["qFieldLabels"]?[0]?.stringValue
        if let id = definition["qLibraryId"]?.stringValue, !id.isEmpty {
            guard let master = app.dimensions.first(where: { $0.id == id }) else { throw QIXFault.notFound("master dimension", id) }
            fieldName = master.fields.first
            label = label ?? master.title
        }
        guard var name = fieldName, !name.isEmpty else {
            throw QIXFault.invalidParams("qListObjectDef", "a list object needs qDef.qFieldDefs[0] or qLibraryId")
        }
        if name.hasPrefix("[") && name.hasSuffix("]") { name = String(name.dropFirst().dropLast()).replacingOccurrences(of: "]]", with: "]") }
        guard let field = session.model.field(named: name) else {
            throw QIXFault.invalidParams("qListObjectDef", "unknown field '\(name)'")
        }
        self.init(
            field: field, label: label ?? name, session: session,
            withFrequency: definition["qFrequencyMode"]?.stringValue.map { $0 != "N" && $0 != "NX_FREQUENCY_NONE" } ?? false,
            sort: definition["qDef"]?["qSortCriterias"]?[0])
    }

    init(field: DataModel.Field, label: String, session: DocSession, withFrequency: Bool, sort: JSONValue? = nil) {
        self.field = field
        self.label = label
        self.withFrequency = withFrequency
        let model = session.model
        let state = session.currentState
        let possible = state.possibleValues(of: field, in: model)
        let selected = session.selection.selected[field.index]
        var alternative: [Bool]?
        if selected != nil {
            var without = session.selection
            without.clear(field: field.index)
            alternative = session.state(without).possibleValues(of: field, in: model)
        }
        // Frequency: possible rows of the field's home table holding each value.
        var frequency = [Int](repeating: 0, count: field.values.count)
        if let position = field.locations.firstIndex(where: { $0.table == field.homeTable }) {
            let location = field.locations[position]
            let column = model.tables[location.table].columns[location.column]
            let map = field.localToGlobal[position]
            let mask = state.possible[location.table]
            for row in 0..<column.count where mask[row] { frequency[Int(map[Int(column[row])])] += 1 }
        }
        var items: [(Int, String, Int)] = []
        var counts = ["qSelected": 0, "qOption": 0, "qAlternative": 0, "qExcluded": 0, "qDeselected": 0, "qLocked": 0]
        for symbol in 0..<field.values.count {
            let itemState: String
            if let selected, selected.contains(Int32(symbol)) {
                itemState = "S"; counts["qSelected"]! += 1
            } else if selected == nil && possible[symbol] {
                itemState = "O"; counts["qOption"]! += 1
            } else if let alternative, alternative[symbol] {
                itemState = "A"; counts["qAlternative"]! += 1
            } else {
                itemState = "X"; counts["qExcluded"]! += 1
            }
            items.append((symbol, itemState, frequency[symbol]))
        }
        // Default order: selected and possible first (Qlik's qSortByState), then numeric or text.
        let byState = sort?["qSortByState"]?.intValue ?? 1
        let byNumeric = sort?["qSortByNumeric"]?.intValue ?? (field.isNumeric ? 1 : 0)
        let byAscii = sort?["qSortByAscii"]?.intValue ?? 1
        let rank: [String: Int] = ["S": 0, "O": 1, "A": 2, "X": 3]
        let values = field.values
        items.sort { a, b in
            if byState != 0, rank[a.1]! != rank[b.1]! { return (rank[a.1]! < rank[b.1]!) == (byState > 0) }
            if byNumeric != 0, let x = values[a.0].number, let y = values[b.0].number, x != y { return (x < y) == (byNumeric > 0) }
            if byAscii != 0 {
                let c = values[a.0].text.localizedStandardCompare(values[b.0].text)
                if c != .orderedSame { return (c == .orderedAscending) == (byAscii > 0) }
            }
            return a.0 < b.0
        }
        self.items = items
        self.counts = counts
    }

    func cell(_ item: (symbol: Int, state: String, frequency: Int)) -> JSONValue {
        let value = field.values[item.symbol]
        var cell: [String: JSONValue] = [
            "qText": .string(value.text), "qNum": value.number.map { .number($0) } ?? "NaN",
            "qElemNumber": .number(Double(item.symbol)), "qState": .string(item.state),
        ]
        if withFrequency { cell["qFrequency"] = .string(String(item.frequency)) }
        return .object(cell)
    }

    func pages(_ requests: [JSONValue]) throws -> [JSONValue] {
        var total = 0
        return try requests.enumerated().map { index, page in
            guard let top = page["qTop"]?.intValue, let height = page["qHeight"]?.intValue, top >= 0, height >= 0 else {
                throw QIXFault.invalidParams("qPages[\(index)]", "a page needs non-negative integers qTop and qHeight")
            }
            total += height
            guard total <= HyperCube.maxCellsPerRequest else {
                throw QIXFault("LOCERR_CALC_PAGES_TOO_LARGE", parameter: "qPages", message: "the pages ask for \(total) cells; at most \(HyperCube.maxCellsPerRequest) per request")
            }
            let end = min(items.count, top + height)
            let matrix: [JSONValue] = top < end ? items[top..<end].map { .array([cell($0)]) } : []
            return [
                "qMatrix": .array(matrix), "qTails": [], "qIsReduced": false,
                "qArea": ["qTop": .number(Double(top)), "qLeft": 0, "qWidth": 1, "qHeight": .number(Double(max(0, end - top)))],
            ]
        }
    }

    func layout(definition: JSONValue) throws -> JSONValue {
        [
            "qSize": ["qcx": 1, "qcy": .number(Double(items.count))],
            "qDimensionInfo": [
                "qFallbackTitle": .string(label), "qCardinal": .number(Double(field.values.count)),
                "qGroupFieldDefs": [.string(field.name)], "qSortIndicator": "A", "qIsOneAndOnlyOne": false,
                "qStateCounts": .object(counts.mapValues { .number(Double($0)) }),
                "qTags": .array(field.isKey ? ["$key"] : []),
            ],
            "qDataPages": .array(try pages(definition["qInitialDataFetch"]?.arrayValue ?? [])),
        ]
    }

    /// Symbols of the items at `positions`... (element numbers are symbols already).
    static func symbols(from values: [JSONValue]) throws -> [Int32] {
        try values.enumerated().map { index, value in
            guard let number = value.intValue, number >= 0 else {
                throw QIXFault.invalidParams("qValues[\(index)]", "element numbers must be non-negative integers")
            }
            return Int32(number)
        }
    }
}
