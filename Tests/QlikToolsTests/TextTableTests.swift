import QlikTools
import Testing

@Suite("Text tables")
struct TextTableTests {
    @Test("cells are flattened, escaped, clipped and padded; short rows are filled")
    func layout() {
        let table = TextTable.render(headers: ["a", "b"], rows: [["x|y", "line1\nline2"], ["only"]], maxCellWidth: 6)
        #expect(
            table == """
                | a    | b      |
                |------|--------|
                | x\\|y | line1… |
                | only |        |
                """)
    }

    @Test("a row longer than the headers keeps its extra cells instead of crashing")
    func extraCells() {
        let table = TextTable.render(headers: ["a"], rows: [["1", "2"]])
        #expect(table.split(separator: "\n").last == "| 1 | 2 |")
    }
}
