import Foundation

/// The "HR Insights" sample app: employees, departments and absences (a different shape from sales:
/// the largest table, Absences, is not where most measures live).
enum HRApp {
    static let id = "hr-insights"

    static func make(seed: UInt64 = 4242) -> DemoApp {
        var random = SeededGenerator(seed: seed)
        let departmentList: [(String, String, String)] = [
            ("D01", "Engineering", "Technology"), ("D02", "IT Operations", "Technology"), ("D03", "Sales", "Commercial"),
            ("D04", "Marketing", "Commercial"), ("D05", "Customer Support", "Commercial"), ("D06", "Finance", "Corporate"),
            ("D07", "People", "Corporate"), ("D08", "Legal", "Corporate"), ("D09", "Warehouse", "Operations"), ("D10", "Logistics", "Operations"),
        ]
        let departments = DataTable(
            name: "Departments", fields: ["DepartmentID", "Department", "Division"],
            rows: departmentList.map {
                [.text($0.0), .text($0.1), .text($0.2)]
            })
        let titles = ["Associate", "Specialist", "Senior Specialist", "Lead", "Manager", "Director"]
        let locations = ["Lund", "Stockholm", "London", "Boston", "Singapore", "Berlin"]
        var employeeRows: [[FieldValue]] = []
        for index in 1...2_500 {
            let department = random.weighted([5, 2, 4, 2, 4, 1.5, 1, 0.5, 3, 2])
            let level = random.weighted([5, 4, 3, 2, 1.5, 0.5])
            let salary = (Double(38_000 + level * 14_000) * random.double(0.9...1.25)).rounded(places: 0)
            let hireYear = random.int(2008...2026)
            employeeRows.append([
                .text(String(format: "E%05d", index)),
                .text("Employee \(index)"),
                .text(departmentList[department].0),
                .text(titles[level]),
                .text(random.pick(locations)),
                FieldValue.date(year: hireYear, month: random.int(1...12), day: random.int(1...28)),
                .number(salary),
                .text(["Full-time", "Full-time", "Full-time", "Part-time", "Contractor"][random.int(0...4)]),
            ])
        }
        let employees = DataTable(name: "Employees", fields: ["EmployeeID", "EmployeeName", "DepartmentID", "JobTitle", "Location", "HireDate", "Salary", "EmploymentType"], rows: employeeRows)
        let reasons = ["Sick leave", "Vacation", "Parental leave", "Training", "Other"]
        var absenceRows: [[FieldValue]] = []
        for index in 1...18_000 {
            let employee = random.int(0...(employeeRows.count - 1))
            let reason = random.weighted([4, 6, 0.5, 1.5, 1])
            absenceRows.append([
                .text(String(format: "A%06d", index)),
                employeeRows[employee][0],
                FieldValue.date(year: random.int(2024...2026), month: random.int(1...12), day: random.int(1...28)),
                .text(reasons[reason]),
                .number(Double([1, 1, 2, 3, 5, 10][random.int(0...5)])),
            ])
        }
        let absences = DataTable(name: "Absences", fields: ["AbsenceID", "EmployeeID", "AbsenceDate", "AbsenceReason", "AbsenceDays"], rows: absenceRows)
        let model = DataModel(tables: [absences, employees, departments])

        typealias M = DemoApp.MasterMeasure
        typealias D = DemoApp.MasterDimension
        let measures = [
            M(id: "hr-headcount", title: "Headcount", description: "Number of distinct employees.", expression: "Count(DISTINCT EmployeeID)", label: "Headcount", tags: ["workforce", "kpi"]),
            M(
                id: "hr-avg-salary", title: "Average Salary", description: "Average annual base salary (one value per employee).", expression: "Avg(Salary)", label: "Avg Salary",
                tags: ["compensation"]),
            M(id: "hr-payroll", title: "Payroll", description: "Total annual base salary.", expression: "Sum(Salary)", label: "Payroll", tags: ["compensation", "kpi"]),
            M(id: "hr-absence-days", title: "Absence Days", description: "Total days of absence.", expression: "Sum(AbsenceDays)", label: "Absence Days", tags: ["absence"]),
            M(
                id: "hr-absence-per-head", title: "Absence Days per Employee", description: "Absence days divided by headcount.", expression: "Sum(AbsenceDays) / Count(DISTINCT EmployeeID)",
                label: "Days / Employee", tags: ["absence", "kpi"]),
        ]
        let dimensions = [
            D(id: "hr-d-department", title: "Department", description: "Department name.", fields: ["Department"], tags: ["organisation"]),
            D(id: "hr-d-division", title: "Division", description: "Division the department belongs to.", fields: ["Division"], tags: ["organisation"]),
            D(id: "hr-d-location", title: "Location", description: "Office location.", fields: ["Location"], tags: ["geography"]),
            D(id: "hr-d-reason", title: "Absence Reason", description: "Why the employee was absent.", fields: ["AbsenceReason"], tags: ["absence"]),
        ]
        let variables = [
            DemoApp.Variable(id: "hr-v-fte-hours", name: "vFTEHours", definition: "40", comment: "Weekly hours of a full-time employee.", tags: []),
            DemoApp.Variable(id: "hr-v-absence-target", name: "vAbsenceTarget", definition: "8", comment: "Target absence days per employee.", tags: ["absence"]),
        ]
        let headcount = ObjectBuilder.chart(
            id: "hr-bar-headcount", type: "barchart", title: "Headcount by Department", dimensions: [.library("hr-d-department")], measures: [.library("hr-headcount")], sortByMeasure: true)
        let salary = ObjectBuilder.chart(
            id: "hr-table-salary", type: "table", title: "Salary by Division and Location", dimensions: [.field("Division"), .field("Location")],
            measures: [.library("hr-avg-salary"), .library("hr-headcount")])
        let absence = ObjectBuilder.chart(
            id: "hr-bar-absence", type: "barchart", title: "Absence by Reason", dimensions: [.field("AbsenceReason", label: "Reason")], measures: [.library("hr-absence-days")], sortByMeasure: true)
        let sheets = [
            ObjectBuilder.sheet(id: "hr-sheet-workforce", title: "Workforce", description: "Headcount and salaries.", rank: 0, cells: [(headcount, 0, 0, 12, 6), (salary, 12, 0, 12, 6)]),
            ObjectBuilder.sheet(id: "hr-sheet-absence", title: "Absence", description: "Absence days by reason.", rank: 1, cells: [(absence, 0, 0, 24, 6)]),
        ]
        let script = """
            ///$tab Main
            SET DateFormat='YYYY-MM-DD';

            ///$tab Organisation
            LIB CONNECT TO 'HRIS';
            Departments:
            LOAD DepartmentID, Department, Division;
            SQL SELECT DepartmentID, Department, Division FROM hr.departments;

            Employees:
            LOAD EmployeeID, EmployeeName, DepartmentID, JobTitle, Location, Date(HireDate) AS HireDate, Salary, EmploymentType;
            SQL SELECT EmployeeID, EmployeeName, DepartmentID, JobTitle, Location, HireDate, Salary, EmploymentType FROM hr.employees;

            ///$tab Absences
            Absences:
            LOAD AbsenceID, EmployeeID, Date(AbsenceDate) AS AbsenceDate, AbsenceReason, AbsenceDays
            FROM [lib://HRFiles/absences.qvd] (qvd);
            """
        return DemoApp(
            id: id, title: "HR Insights", description: "Workforce, salaries and absence (demo data).",
            stream: "Human Resources", owner: "DEMO\\qlik-mcp", createdDate: "2024-03-01T08:00:00.000Z", modifiedDate: "2026-06-15T06:00:00.000Z",
            lastReloadTime: "2026-06-30T05:00:03.000Z", model: model, measures: measures, dimensions: dimensions, variables: variables,
            objects: sheets + [headcount, salary, absence],
            bookmarks: [DemoApp.Bookmark(id: "hr-bm-tech", title: "Technology division", description: "Engineering and IT Operations.", selections: [("Division", ["Technology"])])],
            script: script,
            connections: [
                .init(id: "hr-conn-hris", name: "HRIS", type: "PostgreSQL", connectionString: "host=hris.internal;database=hr"),
                .init(id: "hr-conn-files", name: "HRFiles", type: "folder", connectionString: "lib://HRFiles"),
            ],
            lineage: [
                ("HRIS", "SQL SELECT DepartmentID, Department, Division FROM hr.departments"),
                ("HRIS", "SQL SELECT EmployeeID, EmployeeName, DepartmentID, JobTitle, Location, HireDate, Salary, EmploymentType FROM hr.employees"),
                ("lib://HRFiles/absences.qvd", ""),
            ],
            reloads: [.init(id: "hr-r-0630", status: "SUCCEEDED", startTime: "2026-06-30T05:00:00.000Z", endTime: "2026-06-30T05:00:03.000Z", durationSeconds: 3, log: "Lines fetched: 20,510")])
    }
}
