import JSONCore

/// An open app.
public struct Doc: QIXObject {
    public let connection: QIXConnection
    public let handle: Int
    public let genericID: String

    public func appLayout() async throws -> JSONValue {
        try member("qLayout", of: try await call("GetAppLayout"), method: "GetAppLayout")
    }

    public func appProperties() async throws -> JSONValue {
        try member("qProp", of: try await call("GetAppProperties"), method: "GetAppProperties")
    }

    /// `GetTablesAndKeys`: tables (`qtr`) and key links (`qk`).
    public func tablesAndKeys() async throws -> (tables: [JSONValue], keys: [JSONValue]) {
        let result = try await call(
            "GetTablesAndKeys",
            [
                "qWindowSize": ["qcx": 0, "qcy": 0], "qNullSize": ["qcx": 0, "qcy": 0],
                "qCellHeight": 0, "qSyntheticMode": false, "qIncludeSysVars": false,
            ])
        return (result["qtr"]?.arrayValue ?? [], result["qk"]?.arrayValue ?? [])
    }

    public func fieldDescription(_ name: String) async throws -> JSONValue {
        try member("qReturn", of: try await call("GetFieldDescription", ["qFieldName": .string(name)]), method: "GetFieldDescription")
    }

    public func field(_ name: String) async throws -> Field {
        let reference = try await callForObject("GetField", ["qFieldName": .string(name)])
        return Field(connection: connection, handle: reference.handle, genericID: name)
    }

    /// `Evaluate`: the expression's value as text.
    public func evaluate(_ expression: String) async throws -> String {
        try await call("Evaluate", ["qExpression": .string(expression)])["qReturn"]?.stringValue ?? ""
    }

    /// `EvaluateEx`: text, number (nil when not numeric) and null flag.
    public func evaluateEx(_ expression: String) async throws -> (text: String, number: Double?) {
        let value = try member("qValue", of: try await call("EvaluateEx", ["qExpression": .string(expression)]), method: "EvaluateEx")
        let numeric = value["qIsNumeric"]?.boolValue ?? false
        return (value["qText"]?.stringValue ?? "", numeric ? value["qNumber"]?.doubleValue : nil)
    }

    /// `CheckExpression`: the error message (empty when fine) and bad field names as (offset, length).
    public func checkExpression(_ expression: String) async throws -> (error: String, badFields: [(from: Int, count: Int)]) {
        let result = try await call("CheckExpression", ["qExpr": .string(expression)])
        let bad = (result["qBadFieldNames"]?.arrayValue ?? []).map { ($0["qFrom"]?.intValue ?? 0, $0["qCount"]?.intValue ?? 0) }
        return (result["qErrorMsg"]?.stringValue ?? "", bad)
    }

    public func script() async throws -> String {
        try await call("GetScript")["qScript"]?.stringValue ?? ""
    }

    public func connections() async throws -> [JSONValue] {
        try await call("GetConnections")["qConnections"]?.arrayValue ?? []
    }

    public func lineage() async throws -> [JSONValue] {
        try await call("GetLineage")["qLineage"]?.arrayValue ?? []
    }

    public func allInfos() async throws -> [JSONValue] {
        try await call("GetAllInfos")["qInfos"]?.arrayValue ?? []
    }

    public func object(_ id: String) async throws -> GenericObject {
        let reference = try await callForObject("GetObject", ["qId": .string(id)])
        return GenericObject(connection: connection, handle: reference.handle, genericID: reference.genericID)
    }

    /// Creates a session object (hypercube, list object, list definitions) from its properties.
    public func createSessionObject(_ properties: JSONValue) async throws -> GenericObject {
        let reference = try await callForObject("CreateSessionObject", ["qProp": properties])
        return GenericObject(connection: connection, handle: reference.handle, genericID: reference.genericID)
    }

    @discardableResult
    public func destroySessionObject(_ id: String) async throws -> Bool {
        try await call("DestroySessionObject", ["qId": .string(id)])["qSuccess"]?.boolValue ?? false
    }

    public func variable(named name: String) async throws -> GenericVariable {
        let reference = try await callForObject("GetVariableByName", ["qName": .string(name)])
        return GenericVariable(connection: connection, handle: reference.handle, genericID: reference.genericID)
    }

    public func variable(id: String) async throws -> GenericVariable {
        let reference = try await callForObject("GetVariableById", ["qId": .string(id)])
        return GenericVariable(connection: connection, handle: reference.handle, genericID: reference.genericID)
    }

    public func measure(_ id: String) async throws -> GenericMeasure {
        let reference = try await callForObject("GetMeasure", ["qId": .string(id)])
        return GenericMeasure(connection: connection, handle: reference.handle, genericID: reference.genericID)
    }

    public func dimension(_ id: String) async throws -> GenericDimension {
        let reference = try await callForObject("GetDimension", ["qId": .string(id)])
        return GenericDimension(connection: connection, handle: reference.handle, genericID: reference.genericID)
    }

    public func bookmark(_ id: String) async throws -> GenericBookmark {
        let reference = try await callForObject("GetBookmark", ["qId": .string(id)])
        return GenericBookmark(connection: connection, handle: reference.handle, genericID: reference.genericID)
    }

    @discardableResult
    public func applyBookmark(_ id: String) async throws -> Bool {
        try await call("ApplyBookmark", ["qId": .string(id)])["qSuccess"]?.boolValue ?? false
    }

    public func clearAll() async throws {
        try await call("ClearAll", ["qLockedAlso": false])
    }

    /// `GetTableData`: the first row holds the field names.
    public func tableData(_ table: String, offset: Int = 0, rows: Int) async throws -> [[JSONValue]] {
        let result = try await call(
            "GetTableData",
            [
                "qOffset": .number(Double(offset)), "qRows": .number(Double(rows)),
                "qSyntheticMode": false, "qTableName": .string(table),
            ])
        return (result["qData"]?.arrayValue ?? []).map { $0["qValue"]?.arrayValue ?? [] }
    }
}
