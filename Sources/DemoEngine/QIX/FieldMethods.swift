import JSONCore

/// Methods of Field handles: selections.
enum FieldMethods {
    static func call(_ method: String, _ params: QIXParams, session: QIXSession, doc: DocSession, field index: Int) throws -> JSONValue {
        let field = doc.model.fields[index]
        switch method {
        case "Select", "ToggleSelect":
            let pattern = try params.string("qMatch")
            let symbols = doc.match(pattern, in: field)
            try select(symbols: symbols, field: field, toggle: method == "ToggleSelect", session: session, doc: doc)
            return ["qReturn": .bool(!symbols.isEmpty)]
        case "SelectValues":
            let values = try params.array("qFieldValues")
            var symbols = Set<Int32>()
            for (position, value) in values.enumerated() {
                let isNumeric = value["qIsNumeric"]?.boolValue ?? false
                let text = value["qText"]?.stringValue
                let number = value["qNumber"]?.doubleValue
                guard text != nil || (isNumeric && number != nil) else {
                    throw QIXFault.invalidParams("qFieldValues[\(position)]", "each value needs qText, or qIsNumeric true with qNumber")
                }
                if isNumeric, let number {
                    symbols.formUnion(field.symbols(matchingNumber: number))
                } else if let text {
                    symbols.formUnion(field.symbols(matchingText: text).filter { field.values[Int($0)].text == text })
                }
            }
            try select(symbols: symbols, field: field, toggle: try params.bool("qToggleMode", default: false), session: session, doc: doc)
            return ["qReturn": .bool(!symbols.isEmpty)]
        case "LowLevelSelect":
            let symbols = try ListObject.symbols(from: try params.array("qValues"))
            try select(symbols: Set(symbols), field: field, toggle: try params.bool("qToggleMode", default: false), session: session, doc: doc)
            return ["qReturn": true]
        case "SelectAll":
            let possible = doc.currentState.possibleValues(of: field, in: doc.model)
            try select(symbols: Set(possible.indices.filter { possible[$0] }.map { Int32($0) }), field: field, toggle: false, session: session, doc: doc)
            return ["qReturn": true]
        case "SelectPossible":
            let possible = doc.currentState.possibleValues(of: field, in: doc.model)
            try select(symbols: Set(possible.indices.filter { possible[$0] }.map { Int32($0) }), field: field, toggle: false, session: session, doc: doc)
            return ["qReturn": true]
        case "Clear":
            var selection = doc.selection
            selection.clear(field: index)
            doc.setSelection(selection)
            session.pendingChange = true
            return ["qReturn": true]
        case "GetCardinal":
            return ["qReturn": .number(Double(field.values.count))]
        case "GetAndMode":
            return ["qReturn": false]
        case "Lock", "Unlock":
            return ["qReturn": true]
        default:
            throw QIXFault("LOCERR_GENERIC_NOT_IMPLEMENTED", parameter: method, message: "Field.\(method) is not implemented by the demo engine")
        }
    }

    /// Replaces (or toggles) the selection in `field`. Selecting nothing clears the field.
    static func select(symbols: Set<Int32>, field: DataModel.Field, toggle: Bool, session: QIXSession, doc: DocSession) throws {
        for symbol in symbols where Int(symbol) >= field.values.count {
            throw QIXFault.invalidParams("qValues", "element number \(symbol) does not exist in field '\(field.name)' (cardinality \(field.values.count))")
        }
        var selection = doc.selection
        var next = symbols
        if toggle {
            next = (selection.selected[field.index] ?? []).symmetricDifference(symbols)
        }
        selection.set(field: field.index, values: next)
        doc.setSelection(selection)
        session.pendingChange = true
    }
}
