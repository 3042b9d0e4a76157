import Foundation
import QlikEngine
import QlikTools
import Synchronization

/// Maps an authenticated MCP user to the Qlik identity the engine sees ("hybrid" mode, Qlik Sense
/// Enterprise with certificates): the value of a configurable claim becomes `UserDirectory` /
/// `UserId` of `X-Qlik-User`. `DOMAIN\user` splits at the backslash; any other value (`alice`,
/// `alice@corp.example`) is the user id in `defaultDirectory`. Users without the claim, and API
/// keys, use the configured service identity. Backends are cached per identity (bounded).
public final class QlikIdentityMapping: Sendable {
    public let claim: String
    public let defaultDirectory: String
    let maxCached: Int
    private let cache = Mutex<[String: QlikBackend]>([:])

    public init(claim: String, defaultDirectory: String, maxCached: Int = 1_000) {
        self.claim = claim
        self.defaultDirectory = defaultDirectory
        self.maxCached = maxCached
    }

    /// The directory and user id for `principal`, or nil for the service identity.
    public func qlikUser(for principal: Principal) -> (directory: String, user: String)? {
        guard principal.method == .oauth else { return nil }
        let value = claim == "sub" ? principal.subject : principal.claims[claim]
        guard let value, !value.isEmpty else { return nil }
        if let slash = value.firstIndex(of: "\\") {
            let directory = String(value[..<slash])
            let user = String(value[value.index(after: slash)...])
            return directory.isEmpty || user.isEmpty ? nil : (directory, user)
        }
        return (defaultDirectory, value)
    }

    /// The backend that acts as `principal`'s Qlik user; `base` when there is no mapped user.
    /// Throws when the mapped value cannot be sent as an `X-Qlik-User` header.
    public func backend(for principal: Principal?, base: QlikBackend) throws -> QlikBackend {
        guard let principal, let (directory, user) = qlikUser(for: principal) else { return base }
        let key = base.endpoint.engineID + "|" + directory + "\\" + user
        if let cached = cache.withLock({ $0[key] }) { return cached }
        let backend = base.acting(as: try base.endpoint.actingAs(userDirectory: directory, userID: user))
        cache.withLock { cache in
            if cache.count >= maxCached { cache.removeAll(keepingCapacity: true) }
            cache[key] = backend
        }
        return backend
    }
}
