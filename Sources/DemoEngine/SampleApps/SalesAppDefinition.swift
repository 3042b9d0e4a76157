/// The master items, sheets, bookmarks, script, connections and lineage of the sales app.
enum SalesAppDefinition {
    static func make(model: DataModel) -> DemoApp {
        typealias M = DemoApp.MasterMeasure
        typealias D = DemoApp.MasterDimension
        let measures = [
            M(id: "m-total-sales", title: "Total Sales", description: "Net sales after discounts, in USD.", expression: "Sum(Sales)", label: "Total Sales", tags: ["sales", "kpi"]),
            M(
                id: "m-gross-margin", title: "Gross Margin", description: "Net sales minus cost of goods sold.", expression: "Sum(Sales) - Sum(Cost)", label: "Gross Margin",
                tags: ["sales", "profitability"]),
            M(
                id: "m-margin-pct", title: "Margin %", description: "Gross margin as a share of net sales.", expression: "(Sum(Sales) - Sum(Cost)) / Sum(Sales)", label: "Margin %",
                tags: ["profitability", "kpi"]),
            M(id: "m-order-count", title: "Order Count", description: "Number of distinct orders.", expression: "Count(DISTINCT OrderID)", label: "Orders", tags: ["volume"]),
            M(
                id: "m-avg-order-value", title: "Average Order Value", description: "Net sales per distinct order.", expression: "Sum(Sales) / Count(DISTINCT OrderID)", label: "AOV",
                tags: ["sales", "kpi"]),
            M(id: "m-units", title: "Units Sold", description: "Total quantity of items sold.", expression: "Sum(Quantity)", label: "Units", tags: ["volume"]),
            M(
                id: "m-sales-2025", title: "Sales 2025", description: "Net sales in calendar year 2025, whatever the year selection.", expression: "Sum({<Year={2025}>} Sales)", label: "Sales 2025",
                tags: ["sales"]),
            M(
                id: "m-sales-target", title: "Sales Target", description: "Target: net sales times the target factor variable.", expression: "Sum(Sales) * $(vTargetFactor)", label: "Target",
                tags: ["sales", "planning"]),
            M(id: "m-customers", title: "Active Customers", description: "Customers with at least one order.", expression: "Count(DISTINCT CustomerID)", label: "Customers", tags: ["customers"]),
        ]
        let dimensions = [
            D(id: "d-region", title: "Region", description: "Sales region of the customer's country.", fields: ["Region"], tags: ["geography"]),
            D(id: "d-country", title: "Country", description: "Customer country.", fields: ["Country"], tags: ["geography"]),
            D(id: "d-category", title: "Product Category", description: "Top-level product category.", fields: ["Category"], tags: ["product"]),
            D(id: "d-product", title: "Product", description: "Product name.", fields: ["ProductName"], tags: ["product"]),
            D(id: "d-customer", title: "Customer", description: "Customer name.", fields: ["CustomerName"], tags: ["customers"]),
            D(id: "d-segment", title: "Segment", description: "Customer segment.", fields: ["Segment"], tags: ["customers"]),
            D(id: "d-year", title: "Year", description: "Order year.", fields: ["Year"], tags: ["time"]),
            D(id: "d-yearmonth", title: "Year-Month", description: "Order month.", fields: ["YearMonth"], tags: ["time"]),
        ]
        let variables = [
            DemoApp.Variable(id: "v-target-factor", name: "vTargetFactor", definition: "1.1", comment: "Growth target applied to sales.", tags: ["planning"]),
            DemoApp.Variable(id: "v-current-year", name: "vCurrentYear", definition: "2026", comment: "The current fiscal year.", tags: ["time"]),
            DemoApp.Variable(
                id: "v-target-sales", name: "vTargetSales", definition: "Sum(Sales) * $(vTargetFactor)", comment: "Sales target expression; references vTargetFactor.", tags: ["planning"]),
            DemoApp.Variable(id: "v-margin-threshold", name: "vMarginThreshold", definition: "0.25", comment: "Margin below this share is flagged.", tags: ["profitability"]),
        ]
        let kpi = ObjectBuilder.chart(id: "kpi-sales", type: "kpi", title: "Total Sales", dimensions: [], measures: [.library("m-total-sales"), .library("m-margin-pct")])
        let byRegion = ObjectBuilder.chart(
            id: "bar-sales-region", type: "barchart", title: "Sales by Region", dimensions: [.library("d-region")], measures: [.library("m-total-sales")], sortByMeasure: true)
        let trend = ObjectBuilder.chart(
            id: "line-sales-month", type: "linechart", title: "Monthly Sales Trend", dimensions: [.field("YearMonth", label: "Month")],
            measures: [.expression("Sum(Sales)", label: "Sales"), .expression("Sum(Sales) - Sum(Cost)", label: "Margin")])
        let topCustomers = ObjectBuilder.chart(
            id: "table-top-customers", type: "table", title: "Top Customers", dimensions: [.field("CustomerName", label: "Customer"), .field("Country")],
            measures: [.library("m-total-sales"), .library("m-order-count")], sortByMeasure: true)
        let byCategory = ObjectBuilder.chart(
            id: "bar-sales-category", type: "barchart", title: "Sales by Category", dimensions: [.field("Category")],
            measures: [.expression("Sum(Sales)", label: "Sales"), .expression("Sum(Quantity)", label: "Units")], sortByMeasure: true)
        let categoryYear = ObjectBuilder.chart(
            id: "pivot-category-year", type: "pivot-table", title: "Category by Year", dimensions: [.field("Category"), .field("Year")],
            measures: [.expression("Sum(Sales)", label: "Sales"), .expression("(Sum(Sales) - Sum(Cost)) / Sum(Sales)", label: "Margin %")])
        let segmentTable = ObjectBuilder.chart(
            id: "table-segments", type: "table", title: "Segments", dimensions: [.field("Segment")], measures: [.library("m-customers"), .library("m-avg-order-value")])
        let sheets = [
            ObjectBuilder.sheet(
                id: "sheet-overview", title: "Sales Overview", description: "Headline sales KPIs, regions and the monthly trend.", rank: 0,
                cells: [
                    (kpi, 0, 0, 8, 3), (byRegion, 8, 0, 16, 6), (trend, 0, 6, 24, 6), (topCustomers, 0, 3, 8, 3),
                ]),
            ObjectBuilder.sheet(
                id: "sheet-products", title: "Product Analysis", description: "Categories and their margins over time.", rank: 1,
                cells: [
                    (byCategory, 0, 0, 12, 6), (categoryYear, 12, 0, 12, 6),
                ]),
            ObjectBuilder.sheet(
                id: "sheet-customers", title: "Customer Details", description: "Customer segments and top accounts.", rank: 2,
                cells: [
                    (segmentTable, 0, 0, 12, 6)
                ]),
        ]
        let bookmarks = [
            DemoApp.Bookmark(id: "bm-europe-2025", title: "Europe 2025", description: "European customers, calendar year 2025.", selections: [("Region", ["Europe"]), ("Year", ["2025"])]),
            DemoApp.Bookmark(id: "bm-bikes", title: "Bikes only", description: "The Bikes category.", selections: [("Category", ["Bikes"])]),
            DemoApp.Bookmark(
                id: "bm-enterprise-us", title: "US enterprise accounts", description: "Enterprise segment in the United States.",
                selections: [("Segment", ["Enterprise"]), ("Country", ["United States"])]),
        ]
        let connections = [
            DemoApp.Connection(id: "conn-salesdb", name: "SalesDB", type: "ODBC", connectionString: "ODBC CONNECT TO [SalesDB] (DSN=SalesDB)"),
            DemoApp.Connection(id: "conn-files", name: "SalesFiles", type: "folder", connectionString: "lib://SalesFiles"),
        ]
        let lineage: [(discriminator: String, statement: String)] = [
            ("lib://SalesFiles/regions.csv", ""),
            ("lib://SalesFiles/products.xlsx", ""),
            ("SalesDB", "SQL SELECT CustomerID, CustomerName, Segment, CountryCode, CreditLimit FROM dbo.Customers"),
            ("SalesDB", "SQL SELECT OrderLineID, OrderID, OrderDate, CustomerID, ProductID, Quantity, UnitPrice, Discount, Sales, Cost FROM dbo.OrderLines"),
        ]
        return DemoApp(
            id: SalesApp.id, title: "Sales Analytics", description: "Order lines, customers, products and regions for the bike shop chain (demo data).",
            stream: "Sales", owner: "DEMO\\qlik-mcp", createdDate: "2024-01-15T09:00:00.000Z", modifiedDate: "2026-06-30T22:10:00.000Z",
            lastReloadTime: "2026-06-30T22:05:12.000Z", model: model, measures: measures, dimensions: dimensions, variables: variables,
            objects: sheets + [kpi, byRegion, trend, topCustomers, byCategory, categoryYear, segmentTable], bookmarks: bookmarks,
            script: script, connections: connections, lineage: lineage,
            reloads: [
                .init(id: "r-0630", status: "SUCCEEDED", startTime: "2026-06-30T22:04:40.000Z", endTime: "2026-06-30T22:05:12.000Z", durationSeconds: 32, log: "Lines fetched: 120,000"),
                .init(id: "r-0629", status: "FAILED", startTime: "2026-06-29T22:04:40.000Z", endTime: "2026-06-29T22:04:51.000Z", durationSeconds: 11, log: "Connection to SalesDB timed out"),
                .init(id: "r-0628", status: "SUCCEEDED", startTime: "2026-06-28T22:04:40.000Z", endTime: "2026-06-28T22:05:09.000Z", durationSeconds: 29, log: "Lines fetched: 119,412"),
            ])
    }

    static let script = """
        ///$tab Main
        SET ThousandSep=',';
        SET DecimalSep='.';
        SET DateFormat='YYYY-MM-DD';
        LET vReloadStarted = Now();

        ///$tab Regions
        Regions:
        LOAD CountryCode, Country, Region
        FROM [lib://SalesFiles/regions.csv] (txt, utf8, embedded labels, delimiter is ',');

        ///$tab Customers
        LIB CONNECT TO 'SalesDB';
        Customers:
        LOAD CustomerID, CustomerName, Segment, CountryCode, CreditLimit;
        SQL SELECT CustomerID, CustomerName, Segment, CountryCode, CreditLimit FROM dbo.Customers;

        ///$tab Products
        Products:
        LOAD ProductID, ProductName, Category, SubCategory, ListPrice
        FROM [lib://SalesFiles/products.xlsx] (ooxml, embedded labels, table is Products);

        ///$tab Orders
        OrderLines:
        LOAD OrderLineID, OrderID, Date(OrderDate) AS OrderDate, CustomerID, ProductID,
             Quantity, UnitPrice, Discount, Sales, Cost;
        SQL SELECT OrderLineID, OrderID, OrderDate, CustomerID, ProductID, Quantity, UnitPrice, Discount, Sales, Cost FROM dbo.OrderLines;

        ///$tab Calendar
        Calendar:
        LOAD Date(MakeDate(2024) + IterNo() - 1) AS OrderDate,
             Year(MakeDate(2024) + IterNo() - 1) AS Year,
             'Q' & Ceil(Month(MakeDate(2024) + IterNo() - 1) / 3) AS Quarter,
             Month(MakeDate(2024) + IterNo() - 1) AS Month,
             Date(MonthStart(MakeDate(2024) + IterNo() - 1), 'YYYY-MM') AS YearMonth
        AUTOGENERATE 1 WHILE MakeDate(2024) + IterNo() - 1 <= MakeDate(2026, 6, 30);
        """
}
