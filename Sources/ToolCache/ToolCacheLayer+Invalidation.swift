import Foundation
import Logging
import QlikTools

extension ToolCacheLayer {
    /// Loads the flush generations from the shared tier, reads the app listing and starts
    /// listening to the other replicas. Failures are logged, never fatal: the cache then starts
    /// with what this process knows.
    public func start() async {
        if let shared {
            do {
                try await shared.listen({ [weak self] event in self?.apply(event) }, resync: { [weak self] in self?.resync() })
                applyGenerations(try await shared.generations())
            } catch {
                sharedFailed("generations", error)
            }
        }
        do {
            try await versions.refresh()
        } catch {
            logger.warning("could not list the apps for the cache (retried every interval)", metadata: ["error.type": .string(String(describing: type(of: error)))])
        }
    }

    /// Drops the cached answers of `app`, or of everything when nil — on every replica when the
    /// shared tier is there (a new flush generation is published). Returns the new generation.
    @discardableResult
    public func flush(app: String?, reason: String = "flush") async -> Int64 {
        let scope = app?.lowercased() ?? "*"
        var generation = (generations.withLock { $0[scope] } ?? 0) + 1
        if let shared {
            do {
                let bumped = try await withTimeout { try await shared.bumpGeneration(scope) }
                generation = bumped
                try await withTimeout { try await shared.publish(.flushed(app: app?.lowercased(), generation: bumped)) }
            } catch {
                sharedFailed("flush", error)
            }
        }
        metrics.invalidation(reason)
        applyFlush(scope, generation: generation)
        return generation
    }

    /// After a successful write to `app` (a reload): its answers are dropped everywhere and the
    /// new last reload time is read and sent to the replicas (the app list shows it).
    func appChanged(_ app: String) async {
        await flush(app: app, reason: "write")
        _ = try? await versions.refresh()
        if let shared, let version = versions.version(of: app) {
            do {
                try await withTimeout { try await shared.publish(.reloaded(app: app.lowercased(), version: version)) }
            } catch {
                sharedFailed("publish", error)
            }
        }
    }

    /// An event from a replica (or this one).
    func apply(_ event: CacheEvent) {
        switch event {
        case .flushed(let app, let generation):
            applyFlush(app ?? "*", generation: generation)
        case .reloaded(let app, let version):
            if versions.set(app, version: version) { dropLocal(app: app, reason: .invalidated) }
        }
    }

    /// Sets a generation (never lowers it) and drops the L1 entries it voids.
    func applyFlush(_ scope: String, generation: Int64) {
        let raised = generations.withLock { table -> Bool in
            guard generation > table[scope] ?? 0 else { return false }
            table[scope] = generation
            return true
        }
        guard raised else { return }
        dropLocal(app: scope == "*" ? nil : scope, reason: .flushed)
    }

    func applyGenerations(_ loaded: [String: Int64]) {
        for (scope, generation) in loaded { applyFlush(scope, generation: generation) }
    }

    /// Drops L1 entries of `app` (all when nil) and the field names cached for it.
    func dropLocal(app: String?, reason: SieveStore.Removal) {
        let removed = memory.removeAll { entry in app == nil || entry.app == app }
        metrics.evicted(removed, reason: reason)
        let usage = memory.usage
        metrics.usage(entries: usage.entries, bytes: usage.bytes)
        if let app { backend.fieldNames.invalidate(app) } else { backend.fieldNames.invalidateAll() }
    }

    /// After a reconnect to Redis: events may have been missed, so generations and versions are read again.
    func resync() {
        Task {
            if let shared, let loaded = try? await shared.generations() { applyGenerations(loaded) }
            await checkVersions()
        }
    }

    /// Reads the listing; apps whose last reload time changed (a reload outside qlik-mcp) lose
    /// their L1 entries (their keys changed anyway; this frees the memory).
    func checkVersions() async {
        guard let changed = try? await versions.refresh() else { return }
        for app in changed {
            metrics.invalidation("version")
            dropLocal(app: app, reason: .invalidated)
        }
    }
}
