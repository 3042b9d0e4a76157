import Crypto
import Foundation
import QlikTools

/// One API key as stored. The secret itself is never stored: only its SHA-256, which is enough
/// for a 256-bit random secret (a slow password hash protects low-entropy passwords, which these
/// are not), and the public id that the key starts with, used to find the record.
public struct APIKeyRecord: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var scopes: [QlikScope]
    public var secretSHA256: String
    public var created: Date
    public var expires: Date?
    public var revoked: Date?

    /// `active`, `revoked` or `expired` at `now`.
    public func state(at now: Date) -> String {
        if revoked != nil { return "revoked" }
        if let expires, expires <= now { return "expired" }
        return "active"
    }
}

/// The API key file (`--apikeys-file`): JSON, written atomically with mode 0600.
///
/// Keys look like `qmcp_<id>_<secret>`: `id` is 12 hex characters (public, safe to log), `secret`
/// 32 random bytes in base64url. `create` returns the key once; afterwards only its hash exists.
public struct APIKeyStore: Sendable {
    public let path: URL

    public init(path: URL) {
        self.path = path
    }

    private struct FileContents: Codable {
        var version = 1
        var keys: [APIKeyRecord]
    }

    /// The stored keys; a missing file is an empty store.
    public func load() throws(APIKeyError) -> [APIKeyRecord] {
        guard FileManager.default.fileExists(atPath: path.path) else { return [] }
        do {
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            return try decoder.decode(FileContents.self, from: Data(contentsOf: path)).keys
        } catch {
            throw .file("cannot read the API key file \(path.path): \(error)")
        }
    }

    /// Creates a key; returns the key (shown once) and its record.
    public func create(name: String, scopes: Set<QlikScope>, expiresInDays: Int?, now: Date = Date()) throws(APIKeyError) -> (key: String, record: APIKeyRecord) {
        guard (1...64).contains(name.count), name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }) else {
            throw .invalidInput("the name must be 1 to 64 characters of letters, digits, '.', '_' or '-'")
        }
        guard !scopes.isEmpty else { throw .invalidInput("give at least one scope") }
        if let days = expiresInDays, !(1...3_650).contains(days) { throw .invalidInput("--expires-in-days must be between 1 and 3650") }
        var records = try load()
        guard !records.contains(where: { $0.name == name && $0.state(at: now) == "active" }) else {
            throw .invalidInput("an active key named '\(name)' exists; revoke it first or choose another name")
        }
        let id = Hex.encode(Self.randomBytes(6))
        let secret = Base64URL.encode(Self.randomBytes(32))
        let record = APIKeyRecord(
            id: id, name: name, scopes: scopes.sorted(), secretSHA256: Self.digest(secret), created: now,
            expires: expiresInDays.map { now.addingTimeInterval(Double($0) * 86_400) }, revoked: nil)
        records.append(record)
        try save(records)
        return ("qmcp_\(id)_\(secret)", record)
    }

    /// Revokes the active key with this id or name; returns its record.
    @discardableResult
    public func revoke(_ idOrName: String, now: Date = Date()) throws(APIKeyError) -> APIKeyRecord {
        var records = try load()
        guard let index = records.firstIndex(where: { ($0.id == idOrName || $0.name == idOrName) && $0.revoked == nil }) else {
            throw .invalidInput("no unrevoked key with id or name '\(idOrName)' (see `qlik-mcp apikey list`)")
        }
        records[index].revoked = now
        try save(records)
        return records[index]
    }

    private func save(_ records: [APIKeyRecord]) throws(APIKeyError) {
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            encoder.dateEncodingStrategy = .iso8601
            let data = try encoder.encode(FileContents(keys: records))
            try FileManager.default.createDirectory(at: path.deletingLastPathComponent(), withIntermediateDirectories: true)
            let temporary = path.deletingLastPathComponent().appendingPathComponent(".\(path.lastPathComponent).\(UUID().uuidString)")
            guard FileManager.default.createFile(atPath: temporary.path, contents: data, attributes: [.posixPermissions: 0o600]) else {
                throw APIKeyError.file("cannot write \(temporary.path)")
            }
            guard rename(temporary.path, path.path) == 0 else {
                try? FileManager.default.removeItem(at: temporary)
                throw APIKeyError.file("cannot replace \(path.path) (errno \(errno))")
            }
        } catch let error as APIKeyError {
            throw error
        } catch {
            throw .file("cannot write the API key file \(path.path): \(error)")
        }
    }

    static func digest(_ secret: String) -> String {
        Hex.sha256(secret)
    }

    private static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }
}

/// Who an API key authenticates.
public struct APIKeyIdentity: Sendable, Equatable {
    public let id: String
    public let name: String
    public let scopes: Set<QlikScope>
}

/// Checks presented keys against the records (held in memory; reload by building a new one).
public struct APIKeyVerifier: Sendable {
    private let records: [String: APIKeyRecord]

    public init(records: [APIKeyRecord]) {
        self.records = Dictionary(records.map { ($0.id, $0) }, uniquingKeysWith: { $1 })
    }

    /// The identity for a bearer token, or why it is refused. Unknown ids and wrong secrets are
    /// both `unknown`, and the secret is compared in constant time.
    public func verify(_ token: String, now: Date = Date()) -> Result<APIKeyIdentity, APIKeyError> {
        let parts = token.split(separator: "_", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "qmcp", parts[1].count == 12, parts[1].allSatisfy(\.isHexDigit),
            (40...64).contains(parts[2].count)
        else { return .failure(.malformed) }
        guard let record = records[String(parts[1])],
            Self.constantTimeEqual(APIKeyStore.digest(String(parts[2])), record.secretSHA256)
        else { return .failure(.unknown) }
        if record.revoked != nil { return .failure(.revoked) }
        if let expires = record.expires, expires <= now { return .failure(.expired) }
        return .success(APIKeyIdentity(id: record.id, name: record.name, scopes: Set(record.scopes)))
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let left = Array(a.utf8)
        let right = Array(b.utf8)
        guard left.count == right.count else { return false }
        return zip(left, right).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
