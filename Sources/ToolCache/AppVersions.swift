import Crypto
import Foundation
import QlikEngine
import Synchronization

/// The last reload time of each app, which is part of every app's cache keys: a reload changes
/// it, so no answer computed before the reload is found after it. Filled from the app listing
/// (`AppLister`, one request for all apps) at start, every `versionInterval`, when an app that is
/// not known yet is asked for (at most once a second), and by the replicas' reload events.
final class AppVersions: Sendable {
    private struct State {
        var versions: [String: String] = [:]
        var fingerprint = "unlisted"
        var lastRefresh: ContinuousClock.Instant?
    }

    private let state = Mutex(State())
    private let lister: AppLister
    /// One listing at a time; callers that arrive meanwhile wait for it.
    private let refreshing = Mutex<Task<[String], any Error>?>(nil)
    static let minimumRefreshGap: Duration = .seconds(1)

    init(lister: AppLister) {
        self.lister = lister
    }

    /// The version of `app` (case-insensitive), or nil when it is not known.
    func version(of app: String) -> String? {
        state.withLock { $0.versions[app.lowercased()] }
    }

    /// A digest of every app's id and version: the version of app-less answers (the app list
    /// shows reload times, so any reload changes it).
    var catalogFingerprint: String { state.withLock { $0.fingerprint } }

    var isListed: Bool { state.withLock { $0.lastRefresh != nil } }

    /// Sets one app's version (a reload event); true when it changed.
    @discardableResult
    func set(_ app: String, version: String) -> Bool {
        state.withLock { state in
            guard state.versions[app.lowercased()] != version else { return false }
            state.versions[app.lowercased()] = version
            state.fingerprint = Self.fingerprint(state.versions)
            return true
        }
    }

    /// Reads the listing now (or joins a listing in progress); returns the apps whose version
    /// changed (apps that disappeared count as changed).
    @discardableResult
    func refresh() async throws -> [String] {
        let task = refreshing.withLock { running -> Task<[String], any Error> in
            if let running { return running }
            let lister = self.lister
            let task = Task<[String], any Error> { [weak self] in
                let apps = try await lister.listApps()
                return self?.apply(apps.map { ($0.id, $0.lastReloadTime ?? "never") }) ?? []
            }
            running = task
            return task
        }
        defer { refreshing.withLock { if $0 == task { $0 = nil } } }
        return try await task.value
    }

    /// Refreshes when the last listing is older than `minimumRefreshGap` (an unknown app was asked
    /// for); errors leave the versions as they are.
    func refreshIfDue() async {
        let due = state.withLock { state in state.lastRefresh.map { ContinuousClock.now - $0 >= Self.minimumRefreshGap } ?? true }
        if due { _ = try? await refresh() }
    }

    func apply(_ listing: [(id: String, version: String)]) -> [String] {
        state.withLock { state in
            var next: [String: String] = [:]
            for (id, version) in listing where !id.isEmpty { next[id.lowercased()] = version }
            let changed = Set(next.keys).union(state.versions.keys).filter { next[$0] != state.versions[$0] }
            state.lastRefresh = .now
            if !changed.isEmpty || state.fingerprint == "unlisted" {
                state.versions = next
                state.fingerprint = Self.fingerprint(next)
            }
            return changed.sorted()
        }
    }

    private static func fingerprint(_ versions: [String: String]) -> String {
        var hasher = SHA256()
        for (id, version) in versions.sorted(by: { $0.key < $1.key }) {
            hasher.update(data: Array("\(id.utf8.count):\(id)\(version.utf8.count):\(version)".utf8))
        }
        return CacheKey.hex(hasher.finalize())
    }
}
