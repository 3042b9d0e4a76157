import Foundation
import MCPAuth
import QlikTools
import Testing

@Suite("API keys")
struct APIKeyStoreTests {
    let store = APIKeyStore(path: FileManager.default.temporaryDirectory.appendingPathComponent("apikeys-\(UUID().uuidString)/keys.json"))

    @Test("a created key verifies with its scopes; the file holds only its hash, mode 0600")
    func createAndVerify() throws {
        let (key, record) = try store.create(name: "ci", scopes: [.read, .data], expiresInDays: nil)
        #expect(key.hasPrefix("qmcp_\(record.id)_"))
        let text = try String(contentsOf: store.path, encoding: .utf8)
        #expect(!text.contains(String(key.dropFirst("qmcp_".count + 13))))
        let mode = try FileManager.default.attributesOfItem(atPath: store.path.path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let identity = try APIKeyVerifier(records: store.load()).verify(key).get()
        #expect(identity.id == record.id && identity.name == "ci" && identity.scopes == [.read, .data])
    }

    @Test("wrong secret, unknown id, malformed, revoked and expired keys are refused with their reason")
    func refusals() throws {
        let (key, record) = try store.create(name: "svc", scopes: [.read], expiresInDays: 1)
        let verifier = { APIKeyVerifier(records: try store.load()) }
        let secret = String(key.dropFirst("qmcp_".count + 13))  // the secret may itself contain "_"
        let flipped = String(secret.dropLast()) + (secret.last == "A" ? "B" : "A")
        #expect(try verifier().verify("qmcp_\(record.id)_\(flipped)") == .failure(.unknown))
        #expect(try verifier().verify("qmcp_000000000000_\(secret)") == .failure(.unknown))
        for bad in ["", "Bearer x", "qmcp_", "qmcp_\(record.id)", "qmcp_zzzzzzzzzzzz_\(secret)", "gh_\(record.id)_\(secret)"] {
            #expect(try verifier().verify(bad) == .failure(.malformed), "\(bad)")
        }
        #expect(try verifier().verify(key, now: Date().addingTimeInterval(2 * 86_400)) == .failure(.expired))
        try store.revoke("svc")
        #expect(try verifier().verify(key) == .failure(.revoked))
    }

    @Test("bad names, scopes and expiries are refused with a message; duplicate active names too")
    func badInput() throws {
        #expect(throws: APIKeyError.self) { try store.create(name: "", scopes: [.read], expiresInDays: nil) }
        #expect(throws: APIKeyError.self) { try store.create(name: "has space", scopes: [.read], expiresInDays: nil) }
        #expect(throws: APIKeyError.self) { try store.create(name: "ok", scopes: [], expiresInDays: nil) }
        #expect(throws: APIKeyError.self) { try store.create(name: "ok", scopes: [.read], expiresInDays: 0) }
        #expect(throws: ScopeListError.self) { try QlikScope.parseList("qlik:read,qlik:root") }
        #expect(try QlikScope.parseList("qlik:data qlik:read") == [.read, .data])
        _ = try store.create(name: "dup", scopes: [.read], expiresInDays: nil)
        #expect(throws: APIKeyError.self) { try store.create(name: "dup", scopes: [.read], expiresInDays: nil) }
        try store.revoke("dup")
        _ = try store.create(name: "dup", scopes: [.admin], expiresInDays: nil)
        #expect(try store.load().count == 2)
    }

    @Test("a corrupt key file is a clear error, not an empty store")
    func corruptFile() throws {
        try FileManager.default.createDirectory(at: store.path.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data("{not json".utf8).write(to: store.path)
        #expect(throws: APIKeyError.self) { try store.load() }
    }
}
