import Foundation

/// The "Sales Analytics" sample app: order lines (≥100,000) with customers, products,
/// countries/regions and a calendar, linked by key fields — a star with one snowflake arm.
enum SalesApp {
    static let id = "sales-analytics"

    static func make(seed: UInt64 = 20261125, orderLines: Int = 120_000) -> DemoApp {
        var random = SeededGenerator(seed: seed)
        let geography: [(code: String, country: String, region: String)] = [
            ("US", "United States", "Americas"), ("CA", "Canada", "Americas"), ("BR", "Brazil", "Americas"), ("MX", "Mexico", "Americas"),
            ("GB", "United Kingdom", "Europe"), ("DE", "Germany", "Europe"), ("FR", "France", "Europe"), ("SE", "Sweden", "Europe"),
            ("ES", "Spain", "Europe"), ("IT", "Italy", "Europe"), ("NL", "Netherlands", "Europe"), ("PL", "Poland", "Europe"),
            ("JP", "Japan", "Asia Pacific"), ("AU", "Australia", "Asia Pacific"), ("IN", "India", "Asia Pacific"), ("SG", "Singapore", "Asia Pacific"),
            ("ZA", "South Africa", "Middle East & Africa"), ("AE", "United Arab Emirates", "Middle East & Africa"),
        ]
        let regions = DataTable(
            name: "Regions", fields: ["CountryCode", "Country", "Region"],
            rows: geography.map {
                [.text($0.code), .text($0.country), .text($0.region)]
            })

        let segments = ["Enterprise", "Mid-Market", "Small Business", "Public Sector"]
        let prefixes = ["Northwind", "Contoso", "Fabrikam", "Tailspin", "Wingtip", "Litware", "Adatum", "Proseware", "Lucerne", "Margie"]
        let suffixes = ["Traders", "Industries", "Holdings", "Logistics", "Retail", "Systems", "Partners", "Foods", "Outfitters", "Labs"]
        let customerCount = 2_000
        var customerRows: [[FieldValue]] = []
        var customerCountry: [Int] = []
        for index in 1...customerCount {
            let country = random.weighted(geography.indices.map { $0 < 4 ? 3.0 : ($0 < 12 ? 2.0 : 1.0) })
            customerCountry.append(country)
            customerRows.append([
                .text(String(format: "C%05d", index)),
                .text("\(random.pick(prefixes)) \(random.pick(suffixes)) \(index)"),
                .text(random.pick(segments)),
                .text(geography[country].code),
                .number(Double(random.int(5...100) * 1000)),
            ])
        }
        let customers = DataTable(name: "Customers", fields: ["CustomerID", "CustomerName", "Segment", "CountryCode", "CreditLimit"], rows: customerRows)

        let catalog: [(category: String, subcategories: [String], price: ClosedRange<Double>)] = [
            ("Bikes", ["Mountain Bikes", "Road Bikes", "Touring Bikes"], 400...3000),
            ("Components", ["Frames", "Wheels", "Brakes", "Chains"], 20...600),
            ("Clothing", ["Jerseys", "Shorts", "Gloves", "Caps"], 8...90),
            ("Accessories", ["Helmets", "Lights", "Locks", "Bottles", "Pumps"], 5...120),
        ]
        var productRows: [[FieldValue]] = []
        var productPrice: [Double] = []
        var productCategory: [Int] = []
        for index in 1...120 {
            let category = (index - 1) % catalog.count
            let sub = random.pick(catalog[category].subcategories)
            let price = random.double(catalog[category].price).rounded(places: 2)
            productPrice.append(price)
            productCategory.append(category)
            productRows.append([
                .text(String(format: "P%04d", index)),
                .text("\(sub.dropLast()) \(["Pro", "Sport", "Elite", "Classic", "Lite", "Max"][index % 6]) \(index)"),
                .text(catalog[category].category),
                .text(sub),
                .number(price),
            ])
        }
        let products = DataTable(name: "Products", fields: ["ProductID", "ProductName", "Category", "SubCategory", "ListPrice"], rows: productRows)

        // Calendar: every day from 2024-01-01 to 2026-06-30.
        var calendarRows: [[FieldValue]] = []
        var dates: [FieldValue] = []
        let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        for year in 2024...2026 {
            for month in 1...12 where !(year == 2026 && month > 6) {
                let days = [31, (year % 4 == 0 ? 29 : 28), 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
                for day in 1...days {
                    let date = FieldValue.date(year: year, month: month, day: day)
                    dates.append(date)
                    calendarRows.append([
                        date, .number(Double(year)), .text("Q\((month - 1) / 3 + 1)"),
                        FieldValue(text: monthNames[month - 1], number: Double(month)),
                        .text(String(format: "%04d-%02d", year, month)),
                    ])
                }
            }
        }
        let calendar = DataTable(name: "Calendar", fields: ["OrderDate", "Year", "Quarter", "Month", "YearMonth"], rows: calendarRows)

        var orderRows: [[FieldValue]] = []
        orderRows.reserveCapacity(orderLines)
        var orderNumber = 100_000
        var linesLeft = 0
        var orderCustomer = 0
        var orderDate = dates[0]
        for line in 1...orderLines {
            if linesLeft == 0 {
                orderNumber += 1
                linesLeft = random.int(1...5)
                orderCustomer = random.int(0...(customerCount - 1))
                // Later dates are more likely (growing business).
                let position = Int(Double(dates.count - 1) * random.double(0...1).squareRoot())
                orderDate = dates[position]
            }
            linesLeft -= 1
            let product = random.weighted(productCategory.map { [1.0, 3.0, 4.0, 5.0][$0] })
            let quantity = productCategory[product] == 0 ? random.int(1...3) : random.int(1...12)
            let discount = [0.0, 0.0, 0.0, 0.05, 0.1, 0.15][random.int(0...5)]
            let sales = (Double(quantity) * productPrice[product] * (1 - discount)).rounded(places: 2)
            let cost = (Double(quantity) * productPrice[product] * random.double(0.55...0.8)).rounded(places: 2)
            orderRows.append([
                .number(Double(line)),
                .text("SO\(orderNumber)"),
                orderDate,
                customerRows[orderCustomer][0],
                productRows[product][0],
                .number(Double(quantity)),
                .number(productPrice[product]),
                .number(discount),
                .number(sales),
                .number(cost),
            ])
        }
        let orders = DataTable(
            name: "OrderLines",
            fields: [
                "OrderLineID", "OrderID", "OrderDate", "CustomerID", "ProductID", "Quantity", "UnitPrice", "Discount", "Sales", "Cost",
            ], rows: orderRows)

        let model = DataModel(tables: [orders, customers, products, regions, calendar])
        return SalesAppDefinition.make(model: model)
    }
}
