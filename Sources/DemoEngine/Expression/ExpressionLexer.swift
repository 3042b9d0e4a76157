/// Tokens of the expression language.
enum Token: Equatable, Sendable {
    case number(Double)
    case string(String)
    case identifier(String)
    /// `[Field Name]` or `"Field Name"`: always a field or function name, never a keyword.
    case quotedIdentifier(String)
    case symbol(String)
    case end
}

/// Splits expression text into tokens, remembering where each starts.
struct ExpressionLexer {
    /// Most tokens in one expression: bounds the depth of the parsed tree (and of the recursion
    /// that compiles and evaluates it) whatever the input.
    static let maxTokens = 5_000

    static func tokenize(_ text: String) throws -> [(token: Token, offset: Int)] {
        let chars = Array(text)
        var tokens: [(Token, Int)] = []
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c.isWhitespace { i += 1; continue }
            let start = i
            if c.isNumber || (c == "." && i + 1 < chars.count && chars[i + 1].isNumber) {
                var j = i
                while j < chars.count && (chars[j].isNumber || chars[j] == ".") { j += 1 }
                if j < chars.count && (chars[j] == "e" || chars[j] == "E") {
                    var k = j + 1
                    if k < chars.count && (chars[k] == "+" || chars[k] == "-") { k += 1 }
                    if k < chars.count && chars[k].isNumber {
                        j = k
                        while j < chars.count && chars[j].isNumber { j += 1 }
                    }
                }
                guard let value = Double(String(chars[i..<j])) else {
                    throw ExpressionError("invalid number '\(String(chars[i..<j]))'", offset: start)
                }
                tokens.append((.number(value), start))
                i = j
            } else if c == "'" {
                var value = ""
                var j = i + 1
                while true {
                    guard j < chars.count else { throw ExpressionError("unterminated string literal", offset: start) }
                    if chars[j] == "'" {
                        if j + 1 < chars.count && chars[j + 1] == "'" { value.append("'"); j += 2; continue }
                        break
                    }
                    value.append(chars[j])
                    j += 1
                }
                tokens.append((.string(value), start))
                i = j + 1
            } else if c == "[" || c == "\"" {
                let close: Character = c == "[" ? "]" : "\""
                guard let end = chars[(i + 1)...].firstIndex(of: close) else {
                    throw ExpressionError("unterminated field name \(c)…\(close)", offset: start)
                }
                tokens.append((.quotedIdentifier(String(chars[(i + 1)..<end])), start))
                i = end + 1
            } else if c.isLetter || c == "_" || c == "%" || c == "#" || c == "@" {
                var j = i
                while j < chars.count && (chars[j].isLetter || chars[j].isNumber || chars[j] == "_" || chars[j] == "%" || chars[j] == "#" || chars[j] == "." || chars[j] == "@") { j += 1 }
                tokens.append((.identifier(String(chars[i..<j])), start))
                i = j
            } else {
                let two = i + 1 < chars.count ? String(chars[i...i + 1]) : ""
                if ["<=", ">=", "<>"].contains(two) {
                    tokens.append((.symbol(two), start))
                    i += 2
                } else if "+-*/&=<>(),{}$".contains(c) {
                    tokens.append((.symbol(String(c)), start))
                    i += 1
                } else {
                    throw ExpressionError("unexpected character '\(c)'", offset: start)
                }
            }
        }
        guard tokens.count <= maxTokens else {
            throw ExpressionError("the expression has \(tokens.count) tokens; at most \(maxTokens) are accepted", unsupported: true)
        }
        tokens.append((.end, chars.count))
        return tokens
    }
}
