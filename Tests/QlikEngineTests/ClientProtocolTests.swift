import DemoEngine
import Foundation
import JSONCore
import QlikEngine
import Testing

@Suite("QIX client ↔ demo engine")
struct ClientProtocolTests {
    @Test("connect, engine version, doc list, open doc")
    func basics() async throws {
        let connection = try await QIXConnection.connect(to: await DemoEngineFixture.endpoint(), appID: nil)
        defer { connection.close() }
        let global = Global(connection: connection)
        #expect(try await global.engineVersion() == "12.2027.0")
        #expect(try await global.authenticatedUser() == "UserDirectory=DEMO; UserId=demo")
        let docs = try await global.docList()
        #expect(Set(docs.compactMap { $0["qDocName"]?.stringValue }) == ["sales-analytics", "hr-insights"])
        #expect(docs.first?["qMeta"]?["stream"]?["name"]?.stringValue != nil)
        let doc = try await global.openDoc("hr-insights")
        #expect(doc.genericID == "hr-insights")
        #expect(try await doc.appLayout()["qTitle"]?.stringValue == "HR Insights")
        #expect(connection.sessionState == "SESSION_CREATED")
    }

    @Test("engine errors are typed with LocalizedErrorCode names")
    func typedErrors() async throws {
        let connection = try await QIXConnection.connect(to: await DemoEngineFixture.endpoint(), appID: nil)
        defer { connection.close() }
        let global = Global(connection: connection)
        await #expect { try await global.openDoc("no-such-app") } throws: { error in
            guard let qix = error as? QIXError else { return false }
            return qix.code == 1003 && qix.name == "LOCERR_APP_NOT_FOUND" && qix.parameter == "no-such-app" && qix.method == "OpenDoc"
        }
        await #expect { try await global.call("NoSuchMethod") } throws: { error in
            (error as? QIXError)?.code == -32601 && (error as? QIXError)?.name == "JSONRPC_METHOD_NOT_FOUND"
        }
        let doc = try await global.openDoc("sales-analytics")
        await #expect { try await doc.call("GetField", [:]) } throws: { error in
            (error as? QIXError)?.code == -32602 && (error as? QIXError)?.parameter == "qFieldName"
        }
        await #expect { try await doc.field("NoSuchField") } throws: { error in
            (error as? QIXError)?.name == "LOCERR_GENERIC_NOT_FOUND"
        }
        await #expect { try await connection.call(handle: 999, method: "GetLayout") } throws: { error in
            (error as? QIXError)?.parameter == "handle"
        }
        await #expect { try await doc.evaluate("Rank(Sales)") } throws: { error in
            let qix = error as? QIXError
            return qix?.name == "LOCERR_GENERIC_NOT_IMPLEMENTED" && (qix?.message.contains("'Rank'") ?? false)
        }
        await #expect { try await doc.evaluate("Sum(NoSuchField)") } throws: { error in
            (error as? QIXError)?.message.contains("unknown field 'NoSuchField'") ?? false
        }
        // The session is still usable after every error.
        #expect(try await doc.evaluate("Count(DISTINCT Region)") == "4")
    }

    @Test("every wrapped Doc method answers")
    func docMethods() async throws {
        let (connection, doc) = try await DemoEngineFixture.openSales()
        defer { connection.close() }
        let (tables, keys) = try await doc.tablesAndKeys()
        #expect(tables.compactMap { $0["qName"]?.stringValue }.sorted() == ["Calendar", "Customers", "OrderLines", "Products", "Regions"])
        #expect(tables.first { $0["qName"]?.stringValue == "OrderLines" }?["qNoOfRows"]?.intValue == 120_000)
        #expect(keys.count == 4)
        #expect(try await doc.fieldDescription("Region")["qCardinal"]?.intValue == 4)
        #expect(try await doc.script().contains("///$tab Orders"))
        #expect(try await doc.connections().count == 2)
        #expect(try await doc.lineage().contains { $0["qDiscriminator"]?.stringValue == "lib://SalesFiles/regions.csv" })
        #expect(try await doc.allInfos().contains { $0["qType"]?.stringValue == "sheet" })
        let check = try await doc.checkExpression("Sum(Sales) + Sum(Bogus)")
        #expect(check.error.contains("Bogus"))
        #expect(check.badFields.first?.from == 17)
        #expect(try await doc.checkExpression("Sum(Sales)").error.isEmpty)
        let ex = try await doc.evaluateEx("Count(DISTINCT Category)")
        #expect(ex.number == 4 && ex.text == "4")
        let text = try await doc.evaluateEx("Only(Region)")
        #expect(text.number == nil && text.text == "-")
        let rows = try await doc.tableData("Regions", rows: 3)
        #expect(rows.count == 4 && rows[0].first?["qText"]?.stringValue == "CountryCode")
        let variable = try await doc.variable(named: "vTargetFactor")
        #expect(try await variable.layout()["qNum"]?.doubleValue == 1.1)
        let measure = try await doc.measure("m-total-sales")
        #expect(try await measure.measure()["qDef"]?.stringValue == "Sum(Sales)")
        #expect(try await measure.linkedObjects().contains { $0["qInfo"]?["qId"]?.stringValue == "kpi-sales" })
        let dimension = try await doc.dimension("d-region")
        #expect(try await dimension.dimension()["qFieldDefs"]?[0]?.stringValue == "Region")
        let bookmark = try await doc.bookmark("bm-bikes")
        #expect(try await bookmark.layout()["qMeta"]?["title"]?.stringValue == "Bikes only")
    }

    @Test("sheets and charts: layout, properties, child infos, full property tree, data pages")
    func objects() async throws {
        let (connection, doc) = try await DemoEngineFixture.openSales()
        defer { connection.close() }
        let sheet = try await doc.object("sheet-overview")
        let children = try await sheet.childInfos()
        #expect(children.count == 4)
        #expect(try await sheet.fullPropertyTree()["qChildren"]?.arrayValue?.count == 4)
        #expect(try await sheet.layout()["qMeta"]?["title"]?.stringValue == "Sales Overview")
        let chart = try await doc.object("bar-sales-region")
        let layout = try await chart.layout()
        let cube = try #require(layout["qHyperCube"])
        #expect(cube["qSize"]?["qcy"]?.intValue == 4)
        #expect(cube["qDimensionInfo"]?[0]?["qFallbackTitle"]?.stringValue == "Region")
        // Sorted by the measure, descending.
        let matrix = try #require(cube["qDataPages"]?[0]?["qMatrix"]?.arrayValue)
        let values = matrix.compactMap { $0[1]?["qNum"]?.doubleValue }
        #expect(values == values.sorted(by: >))
        let page = try await chart.hyperCubeData(pages: [.init(top: 1, left: 0, width: 2, height: 2)])
        #expect(page.first?["qMatrix"]?.arrayValue?.count == 2)
        #expect(try await chart.info()["qType"]?.stringValue == "barchart")
        await #expect { try await doc.object("missing-object") } throws: { ($0 as? QIXError)?.name == "LOCERR_GENERIC_NOT_FOUND" }
        await #expect {
            try await chart.hyperCubeData(pages: [.init(top: 0, left: 0, width: 200, height: 100)])
        } throws: { ($0 as? QIXError)?.name == "LOCERR_CALC_PAGES_TOO_LARGE" }
    }

    @Test("session objects: list definitions")
    func listDefinitions() async throws {
        let (connection, doc) = try await DemoEngineFixture.openSales()
        defer { connection.close() }
        let lists = try await doc.createSessionObject([
            "qInfo": ["qType": "lists"],
            "qMeasureListDef": ["qType": "measure"], "qDimensionListDef": ["qType": "dimension"],
            "qVariableListDef": ["qType": "variable"], "qAppObjectListDef": ["qType": "sheet"],
            "qFieldListDef": [:], "qBookmarkListDef": ["qType": "bookmark"],
            "label": ["qStringExpression": "='Rows: ' & Count(OrderLineID)"],
        ])
        let layout = try await lists.layout()
        #expect(layout["qMeasureList"]?["qItems"]?.arrayValue?.count == 9)
        #expect(layout["qDimensionList"]?["qItems"]?.arrayValue?.count == 8)
        #expect(layout["qVariableList"]?["qItems"]?.arrayValue?.count == 4)
        #expect(layout["qAppObjectList"]?["qItems"]?.arrayValue?.count == 3)
        #expect(layout["qBookmarkList"]?["qItems"]?.arrayValue?.count == 3)
        #expect(layout["qFieldList"]?["qItems"]?.arrayValue?.contains { $0["qName"]?.stringValue == "CustomerID" } == true)
        #expect(layout["label"]?.stringValue == "Rows: 120000")
        #expect(try await doc.destroySessionObject(lists.genericID))
        await #expect { try await lists.layout() } throws: { $0 is QIXError }
    }
}

@Suite("Hostile expressions")
struct HostileExpressionTests {
    @Test("deep nesting, huge expressions and giant key spaces are refused, the session survives")
    func hostile() async throws {
        let (connection, doc) = try await DemoEngineFixture.openSales()
        defer { connection.close() }
        let deep = String(repeating: "(", count: 300) + "1" + String(repeating: ")", count: 300)
        await #expect { try await doc.evaluate(deep) } throws: { ($0 as? QIXError)?.message.contains("nested") ?? false }
        let long = "Sum(" + Array(repeating: "Quantity", count: 20_000).joined(separator: "+") + ")"
        await #expect { try await doc.evaluate(long) } throws: { ($0 as? QIXError)?.message.contains("tokens") ?? false }
        let negations = String(repeating: "-", count: 3_001) + "Sum(Quantity)"
        #expect(try await doc.evaluateEx(negations).number == -(try await doc.evaluateEx("Sum(Quantity)").number!))
        let selfReference = "$(vLoop)"
        await #expect { try await doc.evaluate(selfReference) } throws: { $0 is QIXError }
        let cube = try await doc.createSessionObject([
            "qInfo": ["qType": "huge"],
            "qHyperCubeDef": [
                "qDimensions": .array(["OrderLineID", "Sales", "Cost", "CustomerID", "ProductID"].map { ["qDef": ["qFieldDefs": [.string($0)]]] }),
                "qMeasures": [["qDef": ["qDef": "Sum(Quantity)"]]],
            ],
        ])
        await #expect { try await cube.layout() } throws: { ($0 as? QIXError)?.message.contains("cardinality") ?? false }
        #expect(try await doc.evaluate("Count(DISTINCT Region)") == "4")
    }
}
