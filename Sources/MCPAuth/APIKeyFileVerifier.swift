import Foundation
import Synchronization

/// Checks API keys against the key file, re-reading it whenever it changes on disk (inode,
/// size or modification time), so `qlik-mcp apikey revoke` takes effect on the next request
/// without a restart. A file that cannot be read keeps the last good key set.
public final class APIKeyFileVerifier: Sendable {
    private struct Loaded {
        var verifier = APIKeyVerifier(records: [])
        var signature: [Int] = []
    }

    public let store: APIKeyStore
    private let state = Mutex(Loaded())

    public init(store: APIKeyStore) throws(APIKeyError) {
        self.store = store
        let records = try store.load()
        state.withLock { $0 = Loaded(verifier: APIKeyVerifier(records: records), signature: Self.signature(of: store.path)) }
    }

    public func verify(_ token: String, now: Date = Date()) -> Result<APIKeyIdentity, APIKeyError> {
        let current = Self.signature(of: store.path)
        let stale = state.withLock { $0.signature != current }
        if stale {
            let loaded = Result { () throws(APIKeyError) in try store.load() }
            if case .success(let records) = loaded {  // a file that cannot be read keeps the last good key set
                state.withLock { $0 = Loaded(verifier: APIKeyVerifier(records: records), signature: current) }
            }
        }
        return state.withLock { $0.verifier }.verify(token, now: now)
    }

    /// Inode, size and modification time from one `stat(2)` (Foundation's attribute dictionary
    /// cost more than the rest of the key check).
    private static func signature(of url: URL) -> [Int] {
        var info = stat()
        guard stat(url.path, &info) == 0 else { return [-1] }
        #if canImport(Darwin)
            let modified = info.st_mtimespec
        #else
            let modified = info.st_mtim
        #endif
        return [Int(info.st_ino), Int(info.st_size), Int(modified.tv_sec), Int(modified.tv_nsec)]
    }
}
