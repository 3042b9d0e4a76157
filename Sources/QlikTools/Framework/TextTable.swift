/// Markdown tables for tool text output (cells flattened to one line, `|` escaped, clipped).
public enum TextTable {
    /// Pure Swift on purpose: Foundation's `replacingOccurrences` and `padding(toLength:)` bridge
    /// through NSString and were 13 % of the server's CPU for `list_measures` under load.
    public static func render(headers: [String], rows: [[String]], maxCellWidth: Int = 60) -> String {
        let heads = headers.map { Cell($0, maxWidth: maxCellWidth) }
        let cells = rows.map { row in (0..<max(row.count, heads.count)).map { $0 < row.count ? Cell(row[$0], maxWidth: maxCellWidth) : Cell("", maxWidth: maxCellWidth) } }
        var widths = heads.map(\.width)
        for row in cells {
            for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], cell.width) }
        }
        var output = ""
        func line(_ values: [Cell]) {
            output += "|"
            for (index, value) in values.enumerated() {
                output += " " + value.text
                if index < widths.count { output += String(repeating: " ", count: max(0, widths[index] - value.width)) }
                output += " |"
            }
        }
        line(heads)
        output += "\n|" + widths.map { String(repeating: "-", count: $0 + 2) }.joined(separator: "|") + "|"
        for row in cells {
            output += "\n"
            line(row)
        }
        return output
    }

    /// One cell: newlines become spaces, `|` is escaped, longer than `maxWidth` ends in "…".
    private struct Cell {
        let text: String
        let width: Int

        init(_ raw: String, maxWidth: Int) {
            var text = ""
            var width = 0
            for character in raw {
                let piece: String = character == "\n" || character == "\r\n" ? " " : character == "|" ? "\\|" : String(character)
                width += piece.count
                text += piece
            }
            if width > maxWidth {
                text = String(text.prefix(maxWidth - 1)) + "…"
                width = maxWidth
            }
            self.text = text
            self.width = width
        }
    }
}
