import Foundation
import JSONCore
import QlikTools

/// One cached answer: a tool's output, or a "not found" error (negative caching), with its times.
/// Times are wall-clock seconds since 1970, so the replicas sharing Redis read them alike.
struct CacheEntry: Sendable {
    enum Payload: Sendable {
        case output(ToolOutput)
        case failure(ToolError)
    }

    let payload: Payload
    let cacheClass: CacheClass
    let storedAt: Double
    /// Served as fresh until then.
    let freshUntil: Double
    /// Served on engine failure until then (equal to `freshUntil` when never stale).
    let staleUntil: Double
    /// The app (lowercased) for invalidation; nil for app-less tools.
    let app: String?
    /// Size in bytes (the encoded form): what the byte bound counts.
    let bytes: Int

    func isFresh(at now: Double) -> Bool { now < freshUntil }
    func isUsableStale(at now: Double) -> Bool { now < staleUntil }
    func age(at now: Double) -> Double { max(0, now - storedAt) }

    /// The outcome a caller gets from this entry.
    var outcome: Result<ToolOutput, any Error> {
        switch payload {
        case .output(let output): return .success(output)
        case .failure(let error): return .failure(error)
        }
    }

    /// The encoded form (L2 value; its length is `bytes`).
    static func encode(_ payload: Payload, cacheClass: CacheClass, storedAt: Double, freshUntil: Double, staleUntil: Double, app: String?) -> Data {
        var object: [String: JSONValue] = [
            "v": 1, "c": .string(cacheClass.rawValue), "at": .number(storedAt), "fresh": .number(freshUntil), "stale": .number(staleUntil),
        ]
        object["app"] = app.map { .string($0) }
        switch payload {
        case .output(let output):
            object["s"] = output.structured
            object["t"] = .string(output.text)
        case .failure(let error):
            object["e"] = [
                "code": .string(error.code), "category": .string(error.category.rawValue), "message": .string(error.message),
                "remediation": .string(error.remediation), "retryable": .bool(error.retryable),
            ]
        }
        return JSONCoding.serializeData(.object(object))
    }

    /// Decodes an L2 value; nil for anything malformed or of another format version (treated as
    /// a miss, never as an answer).
    static func decode(_ data: Data) -> CacheEntry? {
        guard let value = try? JSONCoding.parse(data), value["v"]?.intValue == 1,
            let cacheClass = value["c"]?.stringValue.flatMap(CacheClass.init(rawValue:)),
            let storedAt = value["at"]?.doubleValue, let fresh = value["fresh"]?.doubleValue, let stale = value["stale"]?.doubleValue
        else { return nil }
        let payload: Payload
        if let structured = value["s"], let text = value["t"]?.stringValue {
            payload = .output(ToolOutput(structured: structured, text: text))
        } else if let error = value["e"], let code = error["code"]?.stringValue,
            let category = error["category"]?.stringValue.flatMap(ToolError.Category.init(rawValue:))
        {
            payload = .failure(
                ToolError(
                    code: code, category: category, message: error["message"]?.stringValue ?? "", remediation: error["remediation"]?.stringValue ?? "",
                    retryable: error["retryable"]?.boolValue ?? false))
        } else {
            return nil
        }
        return CacheEntry(
            payload: payload, cacheClass: cacheClass, storedAt: storedAt, freshUntil: fresh, staleUntil: stale, app: value["app"]?.stringValue,
            bytes: data.count)
    }
}
