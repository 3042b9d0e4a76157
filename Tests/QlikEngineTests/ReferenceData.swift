import DemoEngine

/// An independent computation over the generated rows: plain dictionaries and loops over the
/// tables, without the demo engine's association or evaluation code.
struct SalesReference {
    struct Line {
        let orderID: String, customer: String, product: String, date: String
        let quantity: Double, unitPrice: Double, sales: Double, cost: Double
        let region: String, country: String, category: String, segment: String, year: Int
    }
    let lines: [Line]
    /// customer → (region, credit limit), for all customers including those without orders.
    let customers: [String: (region: String, segment: String, credit: Double)]
    /// product → (category, list price)
    let products: [String: (category: String, price: Double)]

    init(app: DemoApp) {
        let tables = Dictionary(uniqueKeysWithValues: app.model.tables.map { ($0.name, $0) })
        func rows(_ name: String) -> [[String: FieldValue]] {
            let table = tables[name]!
            return (0..<table.rowCount).map { row in
                Dictionary(uniqueKeysWithValues: table.fieldNames.enumerated().map { ($1, table.value(row: row, column: $0)) })
            }
        }
        var regionOf: [String: (String, String)] = [:]
        for row in rows("Regions") { regionOf[row["CountryCode"]!.text] = (row["Region"]!.text, row["Country"]!.text) }
        var customers: [String: (String, String, Double)] = [:]
        var customerCountry: [String: String] = [:]
        for row in rows("Customers") {
            let code = row["CountryCode"]!.text
            customers[row["CustomerID"]!.text] = (regionOf[code]!.0, row["Segment"]!.text, row["CreditLimit"]!.number!)
            customerCountry[row["CustomerID"]!.text] = code
        }
        var products: [String: (String, Double)] = [:]
        for row in rows("Products") { products[row["ProductID"]!.text] = (row["Category"]!.text, row["ListPrice"]!.number!) }
        var yearOf: [String: Int] = [:]
        for row in rows("Calendar") { yearOf[row["OrderDate"]!.text] = Int(row["Year"]!.number!) }
        self.customers = customers.mapValues { (region: $0.0, segment: $0.1, credit: $0.2) }
        self.products = products.mapValues { (category: $0.0, price: $0.1) }
        lines = rows("OrderLines").map { row in
            let customer = row["CustomerID"]!.text
            let product = row["ProductID"]!.text
            let code = customerCountry[customer]!
            return Line(
                orderID: row["OrderID"]!.text, customer: customer, product: product, date: row["OrderDate"]!.text,
                quantity: row["Quantity"]!.number!, unitPrice: row["UnitPrice"]!.number!, sales: row["Sales"]!.number!,
                cost: row["Cost"]!.number!, region: regionOf[code]!.0, country: regionOf[code]!.1,
                category: products[product]!.0, segment: customers[customer]!.1, year: yearOf[row["OrderDate"]!.text]!)
        }
    }

    func sum(_ lines: [Line], _ value: (Line) -> Double) -> Double { lines.reduce(0) { $0 + value($1) } }

    func grouped(_ lines: [Line], by key: (Line) -> String) -> [String: [Line]] { Dictionary(grouping: lines, by: key) }
}
