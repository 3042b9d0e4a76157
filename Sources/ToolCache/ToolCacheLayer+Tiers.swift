import Foundation
import JSONCore
import Logging
import QlikTools

extension ToolCacheLayer {
    /// False while the shared tier is paused after an error.
    var sharedUsable: Bool {
        guard shared != nil else { return false }
        return sharedPausedUntil.withLock { until in
            guard let pause = until else { return true }
            if ContinuousClock.now >= pause {
                until = nil
                return true
            }
            return false
        }
    }

    /// Counts an L2 error and pauses the tier; logs once per outage (the call goes on without it).
    func sharedFailed(_ operation: String, _ error: any Error) {
        metrics.sharedTierError(operation)
        let first = sharedPausedUntil.withLock { until -> Bool in
            defer { until = .now + Self.sharedPause }
            return until == nil
        }
        if first {
            logger.warning(
                "the shared cache (Redis) failed; serving from this process's cache until it answers again",
                metadata: ["qlik_mcp.cache.operation": .string(operation), "error.type": .string(String(describing: type(of: error)))])
        }
    }

    /// Runs an L2 operation with the tier's timeout.
    func withTimeout<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: Self.sharedTimeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else { throw CancellationError() }
            return value
        }
    }

    /// The L2 entry under `digest` (fresh or not); nil when absent, malformed, or the tier failed.
    func sharedEntry(_ digest: String) async -> CacheEntry? {
        guard let shared, sharedUsable else { return nil }
        do {
            guard let data = try await withTimeout({ try await shared.get(digest) }) else { return nil }
            return CacheEntry.decode(data)
        } catch {
            sharedFailed("get", error)
            return nil
        }
    }

    /// Stores in L1 and records evictions and usage.
    func insertLocal(_ digest: String, _ entry: CacheEntry) {
        metrics.evicted(memory.insert(digest, entry), reason: .capacity)
        let usage = memory.usage
        metrics.usage(entries: usage.entries, bytes: usage.bytes)
    }

    /// An answer to serve instead of `error`: the engine is unreachable or timed out (not a
    /// cancelled call), the class allows stale answers, and an expired entry is still within its
    /// stale age — in L1, else in L2.
    func staleAnswer(for key: CacheKey, after error: any Error, lifetime: CacheSettings.Lifetime) async -> (entry: CacheEntry, tier: CacheReport.Tier, age: Double)? {
        guard lifetime.staleFor > .zero, !(error is ArgumentError), !(error is CancellationError) else { return nil }
        let failure = ToolError.from(error)
        guard failure.category == .engineUnavailable || (failure.category == .timeout && failure.code != "CANCELLED") else { return nil }
        let now = clock()
        if let entry = memory.get(key.digest), entry.isUsableStale(at: now), case .output = entry.payload { return (entry, .l1, entry.age(at: now)) }
        if let entry = await sharedEntry(key.digest), entry.isUsableStale(at: now), case .output = entry.payload { return (entry, .l2, entry.age(at: now)) }
        return nil
    }
}

extension ToolCacheLayer {
    /// The arguments as keyed: validated values plus the schema's defaults for the top-level
    /// arguments not given, so `{"app_id": "a"}` and `{"app_id": "a", "limit": 100}` share an entry.
    static func canonicalArguments(_ arguments: ToolArguments, schema: Schema) -> JSONValue {
        var values = arguments.values.filter { $0.value != .null }
        if case .object(_, let properties, _, _) = schema {
            for (name, property) in properties where values[name] == nil {
                switch property {
                case .integer(_, _, _, let defaultValue?): values[name] = .number(Double(defaultValue))
                case .boolean(_, let defaultValue?): values[name] = .bool(defaultValue)
                default: break
                }
            }
        }
        return .object(values)
    }
}
