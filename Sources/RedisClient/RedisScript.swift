import Crypto

/// A Lua script run with `EVALSHA` (by its SHA-1), falling back to `EVAL` once when the server
/// does not have it cached yet (`NOSCRIPT`: a fresh or restarted Redis), which also caches it.
public struct RedisScript: Sendable {
    /// A short name for spans and metrics (`db.stored_procedure.name`).
    public let name: String
    public let source: String
    public let sha1: String

    public init(name: String, source: String) {
        self.name = name
        self.source = source
        self.sha1 = Insecure.SHA1.hash(data: Array(source.utf8)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}
