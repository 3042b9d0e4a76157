import DemoEngine
import Foundation
import JSONCore
import QlikEngine
import Testing

/// Hypercube and Evaluate results compared with `SalesReference`, an independent computation.
@Suite("Numbers are right", .serialized)
struct NumbersAreRightTests {
    static let reference = SalesReference(app: DemoEngineFixture.catalog.app(id: "sales-analytics")!)

    func close(_ a: Double?, _ b: Double, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let a else { Issue.record("\(what): no value", sourceLocation: sourceLocation); return }
        #expect(abs(a - b) <= max(1e-6, abs(b) * 1e-9), "\(what): engine \(a) vs reference \(b)", sourceLocation: sourceLocation)
    }

    /// Reads a whole cube: dimension texts joined by "|" → measure numbers.
    func cube(_ doc: Doc, dimensions: [String], measures: [String]) async throws -> [String: [Double?]] {
        let object = try await doc.createSessionObject([
            "qInfo": ["qType": "test-cube"],
            "qHyperCubeDef": [
                "qDimensions": .array(dimensions.map { ["qDef": ["qFieldDefs": [.string($0)]]] }),
                "qMeasures": .array(measures.map { ["qDef": ["qDef": .string($0)]] }),
            ],
        ])
        defer { Task { try? await doc.destroySessionObject(object.genericID) } }
        let size = try await object.layout()["qHyperCube"]?["qSize"]?["qcy"]?.intValue ?? 0
        let width = dimensions.count + measures.count
        var result: [String: [Double?]] = [:]
        var top = 0
        while top < size {
            let height = min(size - top, 10_000 / width)
            let page = try await object.hyperCubeData(pages: [.init(top: top, left: 0, width: width, height: height)])
            for row in page.first?["qMatrix"]?.arrayValue ?? [] {
                let cells = row.arrayValue ?? []
                let key = cells.prefix(dimensions.count).compactMap { $0["qText"]?.stringValue }.joined(separator: "|")
                result[key] = cells.dropFirst(dimensions.count).map { $0["qNum"]?.doubleValue }
            }
            top += height
        }
        return result
    }

    @Test("totals and distinct counts without selections")
    func totals() async throws {
        let (connection, doc) = try await DemoEngineFixture.openSales()
        defer { connection.close() }
        let ref = Self.reference
        close(try await doc.evaluateEx("Sum(Sales)").number, ref.sum(ref.lines) { $0.sales }, "Sum(Sales)")
        close(try await doc.evaluateEx("Count(DISTINCT OrderID)").number, Double(Set(ref.lines.map(\.orderID)).count), "Count(DISTINCT OrderID)")
        close(try await doc.evaluateEx("Avg(Quantity)").number, ref.sum(ref.lines) { $0.quantity } / Double(ref.lines.count), "Avg(Quantity)")
        close(try await doc.evaluateEx("Min(UnitPrice)").number, ref.lines.map(\.unitPrice).min()!, "Min(UnitPrice)")
        close(try await doc.evaluateEx("Max(UnitPrice)").number, ref.lines.map(\.unitPrice).max()!, "Max(UnitPrice)")
        close(try await doc.evaluateEx("Sum(Quantity * UnitPrice)").number, ref.sum(ref.lines) { $0.quantity * $0.unitPrice }, "Sum(Quantity * UnitPrice)")
        close(
            try await doc.evaluateEx("Sum(Sales) / Count(DISTINCT OrderID)").number,
            ref.sum(ref.lines) { $0.sales } / Double(Set(ref.lines.map(\.orderID)).count), "AOV")
        close(try await doc.evaluateEx("Sum(Sales) * $(vTargetFactor)").number, ref.sum(ref.lines) { $0.sales } * 1.1, "$(vTargetFactor)")
        close(try await doc.evaluateEx("$(vTargetSales)").number, ref.sum(ref.lines) { $0.sales } * 1.1, "nested variables")
        close(try await doc.evaluateEx("Sum({<Year={2025}>} Sales)").number, ref.sum(ref.lines.filter { $0.year == 2025 }) { $0.sales }, "set Year=2025")
        close(
            try await doc.evaluateEx("Sum({<Region={'Europe','Americas'}>} Quantity)").number,
            ref.sum(ref.lines.filter { $0.region == "Europe" || $0.region == "Americas" }) { $0.quantity }, "set two regions")
        // Customer grain: every customer's credit limit once, including customers without orders.
        close(try await doc.evaluateEx("Sum(CreditLimit)").number, ref.customers.values.reduce(0) { $0 + $1.credit }, "Sum(CreditLimit)")
        close(try await doc.evaluateEx("Avg(ListPrice)").number, ref.products.values.reduce(0) { $0 + $1.price } / Double(ref.products.count), "Avg(ListPrice)")
        close(try await doc.evaluateEx("Count(OrderLineID)").number, Double(ref.lines.count), "Count(OrderLineID)")
    }

    @Test("cubes: one and two dimensions, several measures, per-grain aggregation")
    func cubes() async throws {
        let (connection, doc) = try await DemoEngineFixture.openSales()
        defer { connection.close() }
        let ref = Self.reference
        let byRegion = try await cube(doc, dimensions: ["Region"], measures: ["Sum(Sales)", "Count(DISTINCT OrderID)", "Sum(Sales) - Sum(Cost)"])
        let refRegion = ref.grouped(ref.lines) { $0.region }
        #expect(Set(byRegion.keys) == Set(refRegion.keys))
        for (region, lines) in refRegion {
            close(byRegion[region]?[0] ?? nil, ref.sum(lines) { $0.sales }, "Sum(Sales) \(region)")
            close(byRegion[region]?[1] ?? nil, Double(Set(lines.map(\.orderID)).count), "orders \(region)")
            close(byRegion[region]?[2] ?? nil, ref.sum(lines) { $0.sales - $0.cost }, "margin \(region)")
        }
        let twoDims = try await cube(doc, dimensions: ["Region", "Category"], measures: ["Sum(Sales)", "Avg(Quantity)"])
        let refTwo = ref.grouped(ref.lines) { "\($0.region)|\($0.category)" }
        #expect(twoDims.count == refTwo.count)
        for (key, lines) in refTwo {
            close(twoDims[key]?[0] ?? nil, ref.sum(lines) { $0.sales }, "Sum(Sales) \(key)")
            close(twoDims[key]?[1] ?? nil, ref.sum(lines) { $0.quantity } / Double(lines.count), "Avg(Quantity) \(key)")
        }
        let byYear = try await cube(doc, dimensions: ["Year"], measures: ["Sum(Sales)", "Sum({<Year={2025}>} Sales)"])
        for (year, lines) in ref.grouped(ref.lines, by: { String($0.year) }) {
            close(byYear[year]?[0] ?? nil, ref.sum(lines) { $0.sales }, "Sum(Sales) \(year)")
            close(byYear[year]?[1] ?? nil, year == "2025" ? ref.sum(lines) { $0.sales } : 0, "set in cube \(year)")
        }
        // Credit limit is a customer attribute: per region, each customer counted once.
        let credit = try await cube(doc, dimensions: ["Region"], measures: ["Sum(CreditLimit)"])
        for (region, customers) in Dictionary(grouping: ref.customers.values, by: \.region) {
            close(credit[region]?[0] ?? nil, customers.reduce(0) { $0 + $1.credit }, "Sum(CreditLimit) \(region)")
        }
        let ifCube = try await cube(doc, dimensions: ["Category"], measures: ["If(Sum(Sales) > 20000000, 1, 0)"])
        for (category, lines) in ref.grouped(ref.lines, by: \.category) {
            close(ifCube[category]?[0] ?? nil, ref.sum(lines) { $0.sales } > 20_000_000 ? 1 : 0, "If() \(category)")
        }
    }

    @Test("selections filter across linked tables")
    func selections() async throws {
        let (connection, doc) = try await DemoEngineFixture.openSales()
        defer { connection.close() }
        let ref = Self.reference
        let region = try await doc.field("Region")
        #expect(try await region.select("Europe"))
        let europe = ref.lines.filter { $0.region == "Europe" }
        close(try await doc.evaluateEx("Sum(Sales)").number, ref.sum(europe) { $0.sales }, "Sum(Sales) | Europe")
        close(
            try await doc.evaluateEx("Count(DISTINCT CustomerID)").number,
            Double(ref.customers.filter { $0.value.region == "Europe" }.count), "customers | Europe (all European customers are possible)")
        close(try await doc.evaluateEx("Sum({1} Sales)").number, ref.sum(ref.lines) { $0.sales }, "{1} ignores selections")
        close(try await doc.evaluateEx("Sum({<Region=>} Sales)").number, ref.sum(ref.lines) { $0.sales }, "Region= clears")
        let category = try await doc.field("Category")
        #expect(try await category.selectValues([.text("Bikes"), .text("Clothing")]))
        let both = europe.filter { $0.category == "Bikes" || $0.category == "Clothing" }
        close(try await doc.evaluateEx("Sum(Sales)").number, ref.sum(both) { $0.sales }, "Europe × (Bikes, Clothing)")
        let byCountry = try await cube(doc, dimensions: ["Country"], measures: ["Sum(Quantity)"])
        let refCountry = ref.grouped(both, by: \.country)
        #expect(Set(byCountry.keys) == Set(refCountry.keys))
        for (country, lines) in refCountry { close(byCountry[country]?[0] ?? nil, ref.sum(lines) { $0.quantity }, "Quantity \(country)") }
        close(
            try await doc.evaluateEx("Sum({<Region={'Asia Pacific'}>} Sales)").number,
            ref.sum(ref.lines.filter { $0.region == "Asia Pacific" && ($0.category == "Bikes" || $0.category == "Clothing") }) { $0.sales },
            "set modifier replaces one field, keeps the others")
        // List object states after the selections.
        let list = try await doc.createSessionObject([
            "qInfo": ["qType": "test-list"],
            "qListObjectDef": [
                "qDef": ["qFieldDefs": ["Region"]], "qFrequencyMode": "V",
                "qInitialDataFetch": [["qTop": 0, "qLeft": 0, "qWidth": 1, "qHeight": 10]],
            ],
        ])
        let cells = try #require(try await list.layout()["qListObject"]?["qDataPages"]?[0]?["qMatrix"]?.arrayValue).compactMap { $0[0] }
        let states = Dictionary(uniqueKeysWithValues: cells.map { ($0["qText"]!.stringValue!, $0["qState"]!.stringValue!) })
        #expect(states["Europe"] == "S")
        #expect(Set(states.filter { $0.key != "Europe" }.values) == ["A"])
        let segments = try await doc.createSessionObject([
            "qInfo": ["qType": "test-list"],
            "qListObjectDef": ["qDef": ["qFieldDefs": ["Country"]], "qInitialDataFetch": [["qTop": 0, "qLeft": 0, "qWidth": 1, "qHeight": 30]]],
        ])
        let countryCells = try #require(try await segments.layout()["qListObject"]?["qDataPages"]?[0]?["qMatrix"]?.arrayValue).compactMap { $0[0] }
        for cell in countryCells {
            let country = cell["qText"]!.stringValue!
            let european = ref.lines.contains { $0.country == country && $0.region == "Europe" }
            #expect(cell["qState"]?.stringValue == (european ? "O" : "X"), "state of \(country)")
        }
        try await doc.clearAll()
        close(try await doc.evaluateEx("Sum(Sales)").number, ref.sum(ref.lines) { $0.sales }, "after ClearAll")
        #expect(try await doc.applyBookmark("bm-europe-2025"))
        close(try await doc.evaluateEx("Sum(Sales)").number, ref.sum(ref.lines.filter { $0.region == "Europe" && $0.year == 2025 }) { $0.sales }, "bookmark")
    }

    @Test("HR app: measures at employee grain and absence grain")
    func hr() async throws {
        let app = DemoEngineFixture.catalog.app(id: "hr-insights")!
        let tables = Dictionary(uniqueKeysWithValues: app.model.tables.map { ($0.name, $0) })
        let employees = tables["Employees"]!
        let departments = tables["Departments"]!
        let absences = tables["Absences"]!
        func column(_ table: DataTable, _ name: String) -> [FieldValue] {
            let c = table.columnIndex(of: name)!
            return (0..<table.rowCount).map { table.value(row: $0, column: c) }
        }
        let departmentName = Dictionary(uniqueKeysWithValues: zip(column(departments, "DepartmentID").map(\.text), column(departments, "Department").map(\.text)))
        let employeeDepartment = Dictionary(uniqueKeysWithValues: zip(column(employees, "EmployeeID").map(\.text), column(employees, "DepartmentID").map { departmentName[$0.text]! }))
        let salaries = zip(column(employees, "DepartmentID").map { departmentName[$0.text]! }, column(employees, "Salary").map { $0.number! })
        let absenceRows = zip(zip(column(absences, "EmployeeID").map(\.text), column(absences, "AbsenceDays").map { $0.number! }), column(absences, "AbsenceReason").map(\.text))

        let connection = try await QIXConnection.connect(to: await DemoEngineFixture.endpoint(), appID: "hr-insights")
        defer { connection.close() }
        let doc = try await Global(connection: connection).openDoc("hr-insights")
        let cube = try await cube(doc, dimensions: ["Department"], measures: ["Avg(Salary)", "Sum(AbsenceDays)", "Count(DISTINCT EmployeeID)"])
        for (department, rows) in Dictionary(grouping: salaries, by: \.0) {
            close(cube[department]?[0] ?? nil, rows.reduce(0) { $0 + $1.1 } / Double(rows.count), "Avg(Salary) \(department)")
            close(cube[department]?[2] ?? nil, Double(rows.count), "headcount \(department)")
            let days = absenceRows.filter { employeeDepartment[$0.0.0] == department }.reduce(0) { $0 + $1.0.1 }
            close(cube[department]?[1] ?? nil, days, "absence days \(department)")
        }
        // Distinct employees per absence reason: reached through Absences → Employees.
        let byReason = try await self.cube(doc, dimensions: ["AbsenceReason"], measures: ["Count(DISTINCT EmployeeID)", "Avg(Salary)"])
        let employeeSalary = Dictionary(uniqueKeysWithValues: zip(column(employees, "EmployeeID").map(\.text), column(employees, "Salary").map { $0.number! }))
        for (reason, rows) in Dictionary(grouping: absenceRows, by: \.1) {
            let people = Set(rows.map(\.0.0))
            close(byReason[reason]?[0] ?? nil, Double(people.count), "employees with \(reason)")
            close(byReason[reason]?[1] ?? nil, people.reduce(0) { $0 + employeeSalary[$1]! } / Double(people.count), "Avg(Salary) with \(reason)")
        }
    }
}
