import Foundation
import JSONCore
import Resilience

/// Dead-letter administration (toolset `admin`, scope `qlik:admin`): list the failed writes and
/// reloads, run one again, or drop it.
public enum DeadLetterTools {
    static let idArgument = ("id", Schema.string("Dead letter id from list_dead_letters.", maxLength: 100))

    static let letterSchema = Schema.object(
        "A failed operation.",
        properties: [
            ("id", .string("Id.")), ("operation", .string("The tool that failed.")), ("arguments", .any("Its arguments.")),
            ("principal", .string("Who asked (pseudonymous id).")), ("error_code", .string("Error code.")), ("error_message", .string("Error.")),
            ("attempts", .integer("Attempts made.", minimum: 0, maximum: 1_000)), ("retries", .integer("Retries that failed again.", minimum: 0, maximum: 1_000_000)),
            ("failed_at", .string("When, ISO 8601.")),
        ], required: ["id", "operation", "arguments", "error_code", "error_message", "attempts", "retries", "failed_at"])

    /// A letter as the tools and `qlik-mcp dlq` show it.
    public static func json(_ letter: DeadLetter) -> JSONValue {
        var object: [String: JSONValue] = [
            "id": .string(letter.id), "operation": .string(letter.operation), "arguments": (try? JSONCoding.parse(letter.arguments)) ?? .null,
            "error_code": .string(letter.errorCode), "error_message": .string(letter.errorMessage), "attempts": .number(Double(letter.attempts)),
            "retries": .number(Double(letter.retries)), "failed_at": .string(letter.failedAt.formatted(.iso8601)),
        ]
        object["principal"] = letter.principal.map { .string($0) }
        return .object(object)
    }

    static func store(_ resilience: ToolResilience?) throws -> any DeadLetterStore {
        guard let store = resilience?.deadLetters else {
            throw ToolError(
                code: "DLQ_UNAVAILABLE", category: .unsupported, message: "this server keeps no dead letters",
                remediation: "start it with --data-dir (or --state redis)")
        }
        return store
    }

    /// The tools acting on `resilience`'s store; with nil, the same surface without a store.
    public static func tools(_ resilience: ToolResilience?) -> [QlikTool] {
        [
            QlikTool(
                name: "list_dead_letters", title: "List failed operations",
                description: "Lists reloads and writes that failed after their retries and were kept (the dead-letter queue), newest last, with their arguments and error.",
                toolset: "admin",
                input: .object("Arguments.", properties: [("limit", .integer("Most letters returned.", minimum: 1, maximum: 1_000, defaultValue: 100))]),
                output: .object(
                    "Letters.", properties: [("letters", .array("Failed operations.", items: letterSchema, maxItems: 1_000)), ("depth", .integer("Letters kept.", minimum: 0, maximum: Int.max))],
                    required: ["letters", "depth"])
            ) { arguments, _ in
                let store = try store(resilience)
                let letters = try await store.list(limit: arguments.int("limit") ?? 100)
                let depth = try await store.count()
                return ToolOutput(
                    structured: ["letters": .array(letters.map(json)), "depth": .number(Double(depth))],
                    text: letters.isEmpty
                        ? "no failed operations kept"
                        : TextTable.render(
                            headers: ["id", "operation", "error", "failed at"], rows: letters.map { [$0.id, $0.operation, $0.errorCode, $0.failedAt.formatted(.iso8601)] }))
            },
            QlikTool(
                name: "retry_dead_letter", title: "Run a failed operation again",
                description: "Runs a kept failed operation (a reload, a write) again with its original arguments; on success it leaves the queue, on failure it stays with its retry count raised.",
                toolset: "admin", input: .object("Arguments.", properties: [idArgument], required: ["id"]),
                output: .object(
                    "Outcome.", properties: [("id", .string("Id.")), ("succeeded", .boolean("Whether it ran.")), ("result", .any("The operation's result or error."))],
                    required: ["id", "succeeded", "result"]),
                readOnly: false, destructive: true, idempotent: false
            ) { arguments, context in
                let store = try store(resilience)
                let id = arguments.required("id")
                guard var letter = try await store.get(id) else { throw ToolError.notFound("dead letter", id, candidates: [], listTool: "list_dead_letters") }
                let (succeeded, result) = try await DeadLetterReplay.run(letter, context: context)
                if succeeded {
                    try await store.remove(id)
                } else {
                    letter.retries += 1
                    try await store.append(letter)
                }
                resilience?.metrics.deadLetterDepth(try await store.count())
                return ToolOutput(
                    structured: ["id": .string(id), "succeeded": .bool(succeeded), "result": result],
                    text: succeeded ? "\(letter.operation) ran; \(id) left the queue" : "\(letter.operation) failed again; \(id) stays (retries: \(letter.retries))")
            },
            QlikTool(
                name: "drop_dead_letter", title: "Drop a failed operation",
                description: "Removes a kept failed operation from the dead-letter queue without running it.",
                toolset: "admin", input: .object("Arguments.", properties: [idArgument], required: ["id"]),
                output: .object("Outcome.", properties: [("id", .string("Id.")), ("dropped", .boolean("Whether it existed."))], required: ["id", "dropped"]),
                readOnly: false, destructive: true, idempotent: true
            ) { arguments, _ in
                let store = try store(resilience)
                let id = arguments.required("id")
                let dropped = try await store.remove(id)
                resilience?.metrics.deadLetterDepth(try await store.count())
                return ToolOutput(structured: ["id": .string(id), "dropped": .bool(dropped)], text: dropped ? "dropped \(id)" : "no dead letter \(id)")
            },
        ]
    }
}

/// Runs a dead letter's operation again with its arguments, on the engine of `context`.
public enum DeadLetterReplay {
    /// (succeeded, the tool's structured result or error).
    public static func run(_ letter: DeadLetter, context: ToolContext) async throws -> (Bool, JSONValue) {
        guard let tool = StandardToolsets.all.flatMap(\.tools).first(where: { $0.name == letter.operation }) else {
            throw ToolError(
                code: "DLQ_UNKNOWN_OPERATION", category: .unsupported, message: "'\(letter.operation)' is not a tool of this version",
                remediation: "drop the letter with drop_dead_letter")
        }
        let arguments = try ToolArguments((try? JSONCoding.parse(letter.arguments)) ?? .null, schema: tool.input)
        do {
            let output = try await tool.handler(arguments, context)
            return (true, output.structured)
        } catch {
            return (false, ToolError.from(error).json)
        }
    }
}
