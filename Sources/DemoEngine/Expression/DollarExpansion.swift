import Foundation

/// Dollar-sign expansion: `$(vName)` is replaced by the variable's definition text (recursively,
/// so variables may reference variables), and `$(=expr)` by the text of the evaluated expression.
struct DollarExpansion {
    static let maxDepth = 16

    /// - Parameters:
    ///   - variable: definition text of a variable by name, nil when it does not exist.
    ///   - evaluate: evaluates an expression to its text (for `$(=…)`).
    static func expand(
        _ text: String,
        variable: (String) -> String?,
        evaluate: (String) throws -> String,
        depth: Int = 0
    ) throws -> String {
        guard text.contains("$(") else { return text }
        guard depth < maxDepth else {
            throw ExpressionError("dollar-sign expansion nested deeper than \(maxDepth) levels (a variable that refers to itself?)")
        }
        var result = ""
        var rest = Substring(text)
        while let start = rest.range(of: "$(") {
            result += rest[..<start.lowerBound]
            var level = 1
            var index = start.upperBound
            while index < rest.endIndex && level > 0 {
                if rest[index] == "(" { level += 1 }
                if rest[index] == ")" { level -= 1 }
                if level > 0 { index = rest.index(after: index) }
            }
            guard index < rest.endIndex else { throw ExpressionError("unterminated $( in expression") }
            let inner = String(rest[start.upperBound..<index])
            let expandedInner = try expand(inner, variable: variable, evaluate: evaluate, depth: depth + 1)
            if expandedInner.hasPrefix("=") {
                result += try evaluate(String(expandedInner.dropFirst()))
            } else {
                let name = expandedInner.trimmingCharacters(in: .whitespaces)
                guard let definition = variable(name) else {
                    throw ExpressionError("unknown variable '\(name)' in $(\(name))")
                }
                result += try expand(definition, variable: variable, evaluate: evaluate, depth: depth + 1)
            }
            rest = rest[rest.index(after: index)...]
        }
        result += rest
        return result
    }
}
