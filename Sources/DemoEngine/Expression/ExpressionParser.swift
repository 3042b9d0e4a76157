import Foundation

/// Parses the demo engine's expression subset into an `Expr` tree.
///
/// Supported: numbers, 'strings', field names (plain, [bracketed] or "quoted"), + - * / &,
/// = <> < <= > >=, and/or/not, If(), Sum/Count/Avg/Min/Max/Only with DISTINCT and simple set
/// analysis. Anything else is an `ExpressionError` that names the unsupported part.
struct ExpressionParser {
    private let tokens: [(token: Token, offset: Int)]
    private var position = 0
    private var aggregationDepth = 0
    private var depth = 0
    /// Deepest nesting of parentheses, operators and calls accepted (keeps recursion bounded).
    static let maxDepth = 200

    static func parse(_ text: String) throws -> Expr {
        var parser = ExpressionParser(tokens: try ExpressionLexer.tokenize(text))
        // A leading '=' (as in chart expressions "=Sum(Sales)") is allowed.
        if parser.peek == .symbol("=") { parser.position += 1 }
        guard parser.peek != .end else { throw ExpressionError("the expression is empty", offset: 0) }
        let expr = try parser.parseOr()
        guard parser.peek == .end else {
            throw ExpressionError("unexpected \(describe(parser.peek))", offset: parser.offset)
        }
        return expr
    }

    private init(tokens: [(token: Token, offset: Int)]) {
        self.tokens = tokens
    }

    private var peek: Token { tokens[position].token }
    private var offset: Int { tokens[position].offset }

    private mutating func advance() -> Token {
        let token = tokens[position].token
        if position < tokens.count - 1 { position += 1 }
        return token
    }

    private func isKeyword(_ word: String) -> Bool {
        if case .identifier(let name) = peek { return name.caseInsensitiveCompare(word) == .orderedSame }
        return false
    }

    private mutating func expect(_ symbol: String) throws {
        guard peek == .symbol(symbol) else {
            throw ExpressionError("expected '\(symbol)' but found \(Self.describe(peek))", offset: offset)
        }
        _ = advance()
    }

    private mutating func parseOr() throws -> Expr {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else {
            throw ExpressionError("the expression is nested more than \(Self.maxDepth) levels deep", offset: offset)
        }
        var left = try parseAnd()
        while isKeyword("or") { _ = advance(); left = .binary(.or, left, try parseAnd()) }
        return left
    }

    private mutating func parseAnd() throws -> Expr {
        var left = try parseNot()
        while isKeyword("and") { _ = advance(); left = .binary(.and, left, try parseNot()) }
        return left
    }

    private mutating func parseNot() throws -> Expr {
        var nots = 0
        while isKeyword("not") { _ = advance(); nots += 1 }
        let inner = try parseComparison()
        return nots % 2 == 1 ? .unary(.not, inner) : (nots > 0 ? .unary(.not, .unary(.not, inner)) : inner)
    }

    private mutating func parseComparison() throws -> Expr {
        let left = try parseConcat()
        let operators: [String: BinaryOperator] = ["=": .equal, "<>": .notEqual, "<": .less, "<=": .lessEqual, ">": .greater, ">=": .greaterEqual]
        if case .symbol(let symbol) = peek, let op = operators[symbol] {
            _ = advance()
            return .binary(op, left, try parseConcat())
        }
        return left
    }

    private mutating func parseConcat() throws -> Expr {
        var left = try parseAdditive()
        while peek == .symbol("&") { _ = advance(); left = .binary(.concat, left, try parseAdditive()) }
        return left
    }

    private mutating func parseAdditive() throws -> Expr {
        var left = try parseTerm()
        while true {
            if peek == .symbol("+") {
                _ = advance(); left = .binary(.add, left, try parseTerm())
            } else if peek == .symbol("-") {
                _ = advance(); left = .binary(.subtract, left, try parseTerm())
            } else {
                return left
            }
        }
    }

    private mutating func parseTerm() throws -> Expr {
        var left = try parseUnary()
        while true {
            if peek == .symbol("*") {
                _ = advance(); left = .binary(.multiply, left, try parseUnary())
            } else if peek == .symbol("/") {
                _ = advance(); left = .binary(.divide, left, try parseUnary())
            } else {
                return left
            }
        }
    }

    private mutating func parseUnary() throws -> Expr {
        var negations = 0
        while peek == .symbol("-") || peek == .symbol("+") {
            if advance() == .symbol("-") { negations += 1 }
        }
        let primary = try parsePrimary()
        return negations % 2 == 1 ? .unary(.negate, primary) : primary
    }

    private mutating func parsePrimary() throws -> Expr {
        let start = offset
        switch advance() {
        case .number(let value):
            return .number(value)
        case .string(let value):
            return .string(value)
        case .symbol("("):
            let inner = try parseOr()
            try expect(")")
            return inner
        case .symbol("$"):
            throw ExpressionError("unexpanded dollar-sign expansion", offset: start)
        case .quotedIdentifier(let name):
            return .field(name, offset: start)
        case .identifier(let name):
            if peek == .symbol("(") {
                _ = advance()
                return try parseCall(name, offset: start)
            }
            return .field(name, offset: start)
        case let token:
            throw ExpressionError("unexpected \(Self.describe(token))", offset: start)
        }
    }

    private mutating func parseCall(_ name: String, offset start: Int) throws -> Expr {
        if let function = AggregationFunction.allCases.first(where: { $0.rawValue.caseInsensitiveCompare(name) == .orderedSame }) {
            guard aggregationDepth == 0 else {
                throw ExpressionError("nested aggregation \(function.rawValue)() inside another aggregation is not supported (Qlik needs Aggr() for that)", offset: start, unsupported: true)
            }
            var set: SetExpression?
            if peek == .symbol("{") { set = try parseSet() }
            var distinct = false
            if isKeyword("distinct") {
                _ = advance(); distinct = true
            } else if isKeyword("all") || isKeyword("total") {
                throw ExpressionError("the \(Self.describe(peek)) qualifier is not supported by the demo engine", offset: offset, unsupported: true)
            }
            aggregationDepth += 1
            let argument = try parseOr()
            aggregationDepth -= 1
            if peek == .symbol(",") {
                throw ExpressionError("\(function.rawValue)() takes one argument here", offset: offset, unsupported: true)
            }
            try expect(")")
            return .aggregate(Aggregation(function: function, distinct: distinct, set: set, argument: argument, fields: Self.fields(in: argument)))
        }
        if name.caseInsensitiveCompare("if") == .orderedSame {
            let condition = try parseOr()
            try expect(",")
            let then = try parseOr()
            var otherwise: Expr?
            if peek == .symbol(",") { _ = advance(); otherwise = try parseOr() }
            try expect(")")
            return .ifThenElse(condition, then, otherwise)
        }
        throw ExpressionError("function '\(name)' is not supported by the demo engine (supported: Sum, Count, Avg, Min, Max, Only, If)", offset: start, unsupported: true)
    }

    private mutating func parseSet() throws -> SetExpression {
        try expect("{")
        var base = SetExpression.Base.current
        if case .number(1) = peek {
            _ = advance(); base = .all
        } else if peek == .symbol("$") {
            _ = advance()
        } else if case .identifier(let name) = peek, name != "<" {
            throw ExpressionError("set identifier '\(name)' is not supported (use 1 or $)", offset: offset, unsupported: true)
        }
        var modifiers: [SetExpression.Modifier] = []
        if peek == .symbol("<") {
            _ = advance()
            while true {
                let fieldOffset = offset
                let field: String
                switch advance() {
                case .identifier(let name), .quotedIdentifier(let name): field = name
                case let token: throw ExpressionError("expected a field name in the set modifier, found \(Self.describe(token))", offset: fieldOffset)
                }
                guard peek == .symbol("=") else {
                    throw ExpressionError("only 'Field={…}' set modifiers are supported (not +=, -=, *=, /=)", offset: offset, unsupported: true)
                }
                _ = advance()
                if peek == .symbol(",") || peek == .symbol(">") {
                    modifiers.append(.init(field: field, values: nil))
                } else {
                    try expect("{")
                    var values: [SetExpression.SetValue] = []
                    while peek != .symbol("}") {
                        let valueOffset = offset
                        switch advance() {
                        case .string(let text): values.append(.text(text))
                        case .number(let number): values.append(.number(number))
                        case .quotedIdentifier(let text):
                            guard !text.contains("*"), !text.contains("?"), !text.hasPrefix("=") else {
                                throw ExpressionError("search strings in set modifiers (\"\(text)\") are not supported", offset: valueOffset, unsupported: true)
                            }
                            values.append(.text(text))
                        case .symbol("-"):
                            guard case .number(let number) = advance() else { throw ExpressionError("expected a number after '-'", offset: valueOffset) }
                            values.append(.number(-number))
                        case let token:
                            throw ExpressionError("unsupported value \(Self.describe(token)) in set modifier", offset: valueOffset, unsupported: true)
                        }
                        if peek == .symbol(",") {
                            _ = advance()
                        } else if peek != .symbol("}") {
                            throw ExpressionError("expected ',' or '}' in set modifier values", offset: offset)
                        }
                    }
                    _ = advance()
                    modifiers.append(.init(field: field, values: values))
                }
                if peek == .symbol(",") { _ = advance(); continue }
                try expect(">")
                break
            }
        }
        try expect("}")
        return SetExpression(base: base, modifiers: modifiers)
    }

    static func fields(in expr: Expr) -> [String] {
        var result: [String] = []
        func walk(_ e: Expr) {
            switch e {
            case .field(let name, _): if !result.contains(name) { result.append(name) }
            case .unary(_, let inner): walk(inner)
            case .binary(_, let l, let r): walk(l); walk(r)
            case .ifThenElse(let c, let t, let o): walk(c); walk(t); if let o { walk(o) }
            case .aggregate(let a): walk(a.argument)
            case .number, .string: break
            }
        }
        walk(expr)
        return result
    }

    static func describe(_ token: Token) -> String {
        switch token {
        case .number(let n): return "number \(NumberFormatting.text(n))"
        case .string(let s): return "string '\(s)'"
        case .identifier(let s): return "'\(s)'"
        case .quotedIdentifier(let s): return "field [\(s)]"
        case .symbol(let s): return "'\(s)'"
        case .end: return "end of expression"
        }
    }
}
