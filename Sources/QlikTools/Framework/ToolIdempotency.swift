import Foundation
import JSONCore
import Resilience

/// Idempotency keys on the tools that change something (`ToolRegistry.idempotency`): a write or
/// reload called with `_meta.idempotencyKey` runs at most once per key, caller and tool — a
/// repeat (after a lost answer, on any replica) gets the first run's result with
/// `_meta.idempotentReplay: true` — and, being safe to repeat, it is retried like a read.
/// Reads ignore the key (they are idempotent anyway).
enum ToolIdempotency {
    /// Whether this call runs under its idempotency key.
    static func applies(_ tool: QlikTool, _ context: ToolContext, _ idempotency: Idempotency?) -> Bool {
        idempotency != nil && !tool.readOnly && context.directives.idempotencyKey != nil
    }

    /// Runs `body` under the call's key (see `applies`).
    static func run(
        _ tool: QlikTool, arguments: ToolArguments, context: ToolContext, idempotency: Idempotency, _ body: () async -> CachedCall
    ) async -> CachedCall {
        guard let key = context.directives.idempotencyKey else { return await body() }
        let operation = tool.replacement ?? tool.name
        let scoped = Idempotency.scopedKey(key, principal: context.principalID ?? "anonymous", operation: operation)
        let fingerprint = Idempotency.fingerprint(JSONCoding.serializeCanonical(.object(arguments.values)))
        do {
            let outcome = try await idempotency.run(key: scoped, fingerprint: fingerprint, encode: encode) { () async throws -> CachedCall in
                let call = await body()
                if case .failure(let error) = call.outcome { throw error }
                return call
            }
            switch outcome {
            case .ran(let call): return call
            case .replayed(let text):
                guard let output = decode(text) else {
                    return CachedCall(.failure(refusal(.storeUnavailable("the stored result is unreadable"))), report: nil)
                }
                return CachedCall(.success(output), report: nil, idempotentReplay: true)
            }
        } catch let refused as Idempotency.Refusal {
            return CachedCall(.failure(refusal(refused)), report: nil)
        } catch {
            return CachedCall(.failure(error), report: nil)
        }
    }

    static func encode(_ call: CachedCall) -> String? {
        guard case .success(let output) = call.outcome else { return nil }
        return JSONCoding.serialize(["structured": output.structured, "text": .string(output.text)])
    }

    static func decode(_ text: String) -> ToolOutput? {
        guard let value = try? JSONCoding.parse(text), let structured = value["structured"], let output = value["text"]?.stringValue else { return nil }
        return ToolOutput(structured: structured, text: output)
    }

    static func refusal(_ refusal: Idempotency.Refusal) -> ToolError {
        switch refusal {
        case .keyReused:
            return ToolError(
                code: "IDEMPOTENCY_KEY_REUSED", category: .invalidArgument,
                message: "this idempotency key was used before with other arguments",
                remediation: "use a new idempotency key for a different operation; repeat a key only to repeat the same call")
        case .inProgress(let retryAfter):
            let seconds = min(60, max(1, retryAfter.seconds.rounded(.up)))
            return ToolError(
                code: "IDEMPOTENCY_KEY_IN_USE", category: .conflict, message: "a call with this idempotency key is still running",
                remediation: "retry with the same key in \(Int(seconds)) s to get its result", retryable: true, retryAfterSeconds: seconds)
        case .storeUnavailable(let reason):
            return ToolError(
                code: "IDEMPOTENCY_UNAVAILABLE", category: .engineUnavailable,
                message: "the idempotency key could not be checked (\(reason)), so the call was not run",
                remediation: "retry in a few seconds with the same key", retryable: true, retryAfterSeconds: 2)
        }
    }
}
