/// Renders rows as an aligned Markdown table — the compact text form of tabular tool results.
public enum TextTable {
    public static func render(headers: [String], rows: [[String]], maxCellWidth: Int = 60) -> String {
        func clip(_ text: String) -> String {
            let flat = text.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "|", with: "\\|")
            return flat.count > maxCellWidth ? String(flat.prefix(maxCellWidth - 1)) + "…" : flat
        }
        let cells = rows.map { $0.map(clip) }
        let heads = headers.map(clip)
        var widths = heads.map(\.count)
        for row in cells {
            for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], cell.count) }
        }
        func line(_ values: [String]) -> String {
            "| " + values.enumerated().map { index, value in
                value.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: " | ") + " |"
        }
        var output = [line(heads), "|" + widths.map { String(repeating: "-", count: $0 + 2) }.joined(separator: "|") + "|"]
        output += cells.map { line($0 + Array(repeating: "", count: max(0, heads.count - $0.count))) }
        return output.joined(separator: "\n")
    }
}
