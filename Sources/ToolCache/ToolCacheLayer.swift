import Foundation
import JSONCore
import Logging
import QlikEngine
import QlikTools
import Synchronization

/// The cache layer between the tool runner and the engine (`ToolRegistry.cache`): L1 in this
/// process (`SieveStore`), L2 in Redis (`SharedCacheTier`, optional), single-flight per key,
/// negative caching of "not found", stale answers when the engine fails, invalidation by reload
/// time, flush generations and events from the other replicas. The key derivation is in
/// `CacheKey` and the README ("Caching").
public final class ToolCacheLayer: ToolResultCache, Sendable {
    public let settings: CacheSettings
    let memory: SieveStore
    let shared: (any SharedCacheTier)?
    let versions: AppVersions
    let metrics: CacheMetrics
    let backend: QlikBackend
    private let flights = SingleFlight<CachedCall>()
    /// Flush generations: `"*"` and per app (lowercased).
    let generations = Mutex<[String: Int64]>([:])
    /// After an L2 error the tier is skipped until then (a down Redis costs one timeout, not one per call).
    let sharedPausedUntil = Mutex<ContinuousClock.Instant?>(nil)
    private let identities = Mutex<[String: String]>([:])
    let logger: Logger
    /// Wall-clock seconds since 1970 (entries' times; replaceable in tests).
    let clock: @Sendable () -> Double
    static let sharedTimeout: Duration = .milliseconds(250)
    static let sharedPause: Duration = .seconds(2)

    public init(
        settings: CacheSettings, backend: QlikBackend, shared: (any SharedCacheTier)? = nil, logger: Logger = Logger(label: "qlik-mcp.cache"),
        clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }
    ) {
        self.clock = clock
        self.settings = settings
        self.backend = backend
        self.shared = settings.mode == .redis ? shared : nil
        self.memory = SieveStore(maxBytes: settings.maxBytes, maxEntries: settings.maxEntries)
        self.versions = AppVersions(lister: backend.lister)
        self.metrics = CacheMetrics(maxBytes: settings.maxBytes)
        self.logger = logger
    }

    // MARK: the call path

    public func run(
        _ tool: QlikTool, arguments: ToolArguments, context: ToolContext, compute: @escaping @Sendable () async throws -> ToolOutput
    ) async -> CachedCall {
        let policy = ToolCachePolicies.policy(for: tool.replacement ?? tool.name)
        guard settings.mode != .off else { return await CachedCall.capture(report: .bypass("disabled"), compute) }
        guard let lifetime = settings.lifetime(policy.cacheClass) else {
            let call = await CachedCall.capture(report: .bypass("policy"), compute)
            if policy.invalidatesApp, case .success = call.outcome, let app = arguments.string("app_id") { await appChanged(app) }
            return call
        }
        let cacheClass = policy.cacheClass
        let key: CacheKey
        switch await makeKey(tool, policy: policy, arguments: arguments, context: context) {
        case .success(let made): key = made
        case .failure(let reason):
            metrics.request(cacheClass, tier: nil, result: "bypass")
            return await CachedCall.capture(report: .bypass(reason.rawValue), compute)
        }
        if context.cacheBypass && settings.allowBypass {
            metrics.request(cacheClass, tier: nil, result: "bypass")
            let call = await CachedCall.capture(report: .bypass("requested"), compute)
            await store(call.outcome, key: key, cacheClass: cacheClass, lifetime: lifetime, policy: policy, arguments: arguments, context: context)
            return call
        }
        let now = clock()
        if let entry = memory.get(key.digest) {
            if entry.isFresh(at: now) {
                metrics.request(cacheClass, tier: .l1, result: "hit")
                return CachedCall(entry.outcome, report: CacheReport(.hit, tier: .l1, ageSeconds: entry.age(at: now)))
            }
            if !entry.isUsableStale(at: now), let removed = memory.remove(key.digest) { metrics.evicted([removed], reason: .expired) }
        }
        metrics.request(cacheClass, tier: .l1, result: "miss")
        guard
            let flight = await flights.run(
                key.digest,
                { await self.fill(key, cacheClass: cacheClass, lifetime: lifetime, policy: policy, arguments: arguments, context: context, compute: compute) })
        else {
            return CachedCall(.failure(CancellationError()), report: CacheReport(.miss))
        }
        metrics.singleFlight(waiting: flights.waiting, coalesced: flight.joined)
        guard flight.joined else { return flight.value }
        // Joined a run another call started: answered without an engine call of its own.
        let report = flight.value.report
        return CachedCall(flight.value.outcome, report: report?.outcome == .miss ? CacheReport(.hit, tier: .l1, ageSeconds: 0) : report)
    }

    /// L2, then the engine; stores what the engine answered; stale on engine failure.
    private func fill(
        _ key: CacheKey, cacheClass: CacheClass, lifetime: CacheSettings.Lifetime, policy: CachePolicy, arguments: ToolArguments, context: ToolContext,
        compute: @escaping @Sendable () async throws -> ToolOutput
    ) async -> CachedCall {
        if let entry = await sharedEntry(key.digest) {
            let now = clock()
            if entry.isFresh(at: now) {
                metrics.request(cacheClass, tier: .l2, result: "hit")
                insertLocal(key.digest, entry)
                return CachedCall(entry.outcome, report: CacheReport(.hit, tier: .l2, ageSeconds: entry.age(at: now)))
            }
        }
        if shared != nil { metrics.request(cacheClass, tier: .l2, result: "miss") }
        let call = await CachedCall.capture(report: CacheReport(.miss), compute)
        if case .failure(let error) = call.outcome, let stale = await staleAnswer(for: key, after: error, lifetime: lifetime) {
            metrics.request(cacheClass, tier: stale.tier, result: "stale")
            logger.warning(
                "engine failed; answered from the cache (stale)",
                metadata: ["qlik_mcp.cache.age_s": .stringConvertible(Int(stale.age)), "qlik_mcp.error.code": .string(ToolError.from(error).code)])
            return CachedCall(stale.entry.outcome, report: CacheReport(.stale, tier: stale.tier, ageSeconds: stale.age))
        }
        await store(call.outcome, key: key, cacheClass: cacheClass, lifetime: lifetime, policy: policy, arguments: arguments, context: context)
        return call
    }

    enum Unkeyable: String, Error {
        /// The app's last reload time is not known (not in the listing): an answer could not be
        /// told apart from one computed before a reload.
        case unversioned
        /// The session's selections could not be read or are listed only in part.
        case selections
    }

    private func makeKey(_ tool: QlikTool, policy: CachePolicy, arguments: ToolArguments, context: ToolContext) async -> Result<CacheKey, Unkeyable> {
        let app = arguments.string("app_id").flatMap { $0.isEmpty ? nil : $0 }
        let appVersion: String
        var listed = true
        if let app {
            if versions.version(of: app) == nil { await versions.refreshIfDue() }
            if let version = versions.version(of: app) {
                appVersion = version
            } else if versions.isListed {
                // Not in the listing: only a "not found" answer is kept (negative caching), under
                // the listing's fingerprint, so the app's appearance ends it.
                appVersion = "absent:" + versions.catalogFingerprint
                listed = false
            } else {
                return .failure(.unversioned)
            }
        } else {
            if !versions.isListed { await versions.refreshIfDue() }
            appVersion = versions.catalogFingerprint
        }
        var selections: String?
        if let app, policy.dependsOnSelections(arguments) {
            guard let state = try? await context.backend.selectionState(appID: app, tag: context.sessionID) else { return .failure(.selections) }
            selections = state
        }
        let generation = generations.withLock { table in "\(table["*"] ?? 0):\(app.map { table[$0.lowercased()] ?? 0 } ?? 0)" }
        return .success(
            CacheKey(
                .init(
                    tenant: settings.tenant, engine: context.backend.endpoint.engineID, identity: identity(of: context.backend.endpoint), app: app,
                    appVersion: appVersion, generation: generation, selections: selections, tool: tool.replacement ?? tool.name, toolVersion: tool.version,
                    arguments: JSONCoding.serializeCanonical(Self.canonicalArguments(arguments, schema: tool.input))), listed: listed))
    }

    private func identity(of endpoint: QIXEndpoint) -> String {
        let memo = endpoint.engineID + "\u{0}" + endpoint.identity
        if let known = identities.withLock({ $0[memo] }) { return known }
        let digest = CacheKey.identity(of: endpoint)
        identities.withLock { identities in
            if identities.count >= 10_000 { identities.removeAll(keepingCapacity: true) }
            identities[memo] = digest
        }
        return digest
    }

    /// Stores an answer: outputs for the class's TTL (jittered), "not found" errors for the
    /// negative TTL; nothing else. A data answer is stored only if the selections it was computed
    /// under are still the session's (a concurrent selection change would otherwise file it
    /// under the wrong state).
    private func store(
        _ outcome: Result<ToolOutput, any Error>, key: CacheKey, cacheClass: CacheClass, lifetime: CacheSettings.Lifetime, policy: CachePolicy,
        arguments: ToolArguments, context: ToolContext
    ) async {
        let payload: CacheEntry.Payload
        let ttl: Duration
        var staleFor = lifetime.staleFor
        switch outcome {
        case .success(let output):
            guard key.listed else { return }
            payload = .output(output)
            ttl = lifetime.ttl
        case .failure(let error):
            guard !(error is ArgumentError), !(error is CancellationError), settings.negativeTTL > .zero else { return }
            let failure = ToolError.from(error)
            guard failure.category == .notFound else { return }
            payload = .failure(failure)
            ttl = settings.negativeTTL
            staleFor = .zero
        }
        // TTL 0 with a stale age: always asked, kept only as the fallback for engine failures.
        guard ttl > .zero || staleFor > .zero else { return }
        if let app = key.appID, let selections = key.selections {
            guard let current = try? await context.backend.selectionState(appID: app, tag: context.sessionID), current == selections else { return }
        }
        let now = clock()
        let fresh = now + ttl.seconds * (1 - Double.random(in: 0..<max(settings.jitter, .ulpOfOne)))
        let stale = fresh + staleFor.seconds
        let data = CacheEntry.encode(payload, cacheClass: cacheClass, storedAt: now, freshUntil: fresh, staleUntil: stale, app: key.app)
        guard data.count <= settings.maxEntryBytes else { return }
        insertLocal(key.digest, CacheEntry(payload: payload, cacheClass: cacheClass, storedAt: now, freshUntil: fresh, staleUntil: stale, app: key.app, bytes: data.count))
        if let shared, sharedUsable {
            do {
                try await withTimeout { try await shared.set(key.digest, data, ttl: .milliseconds(Int64((stale - now) * 1000) + 1)) }
            } catch {
                sharedFailed("set", error)
            }
        }
    }
}
