import Foundation

/// Renders the tool catalogue (for `qlik-mcp tools list` and the README table).
public enum ToolCatalogue {
    /// A Markdown table: tool, toolset, read-only, what it answers (first sentence of the description).
    public static func markdown(_ tools: [QlikTool]) -> String {
        TextTable.render(
            headers: ["tool", "toolset", "read-only", "what it answers"],
            rows: tools.map { tool in
                [tool.name, tool.toolset, tool.readOnly ? "yes" : "no", firstSentence(tool.description)]
            }, maxCellWidth: 160)
    }

    /// Up to the first ". " that is followed by a capital letter (so "e.g. 'x'" does not end it).
    static func firstSentence(_ text: String) -> String {
        let flat = text.replacingOccurrences(of: "\n", with: " ")
        var search = flat.startIndex
        while let end = flat.range(of: ". ", range: search..<flat.endIndex) {
            if end.upperBound < flat.endIndex, flat[end.upperBound].isUppercase {
                return String(flat[..<end.lowerBound]) + "."
            }
            search = end.upperBound
        }
        return flat
    }
}
