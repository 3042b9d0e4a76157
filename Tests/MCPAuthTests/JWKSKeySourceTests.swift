import Crypto
import Foundation
import Hummingbird
import JSONCore
import Logging
import Synchronization
import Testing

@testable import MCPAuth

/// A loopback authorization server for the key-source tests: RFC 8414 metadata and a JWKS whose
/// keys the test changes; counts the key-set fetches.
final class TestKeyServer: Sendable {
    let keys = Mutex<[JSONValue]>([])
    let fetches = Mutex(0)
    let statedIssuer = Mutex<String?>(nil)

    func run<T: Sendable>(_ body: @Sendable (_ issuer: String) async throws -> T) async throws -> T {
        let router = Router()
        let (portStream, portContinuation) = AsyncStream<Int>.makeStream()
        let port = Mutex(0)
        router.get("/.well-known/oauth-authorization-server") { [self] _, _ -> Response in
            let issuer = statedIssuer.withLock { $0 } ?? "http://127.0.0.1:\(port.withLock { $0 })"
            return Self.json(["issuer": .string(issuer), "jwks_uri": .string("http://127.0.0.1:\(port.withLock { $0 })/jwks")])
        }
        router.get("/jwks") { [self] _, _ -> Response in
            fetches.withLock { $0 += 1 }
            return Self.json(["keys": .array(keys.withLock { $0 })])
        }
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { portContinuation.yield($0.localAddress?.port ?? 0) })
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService() }
            var ports = portStream.makeAsyncIterator()
            let bound = await ports.next() ?? 0
            port.withLock { $0 = bound }
            defer { group.cancelAll() }
            return try await body("http://127.0.0.1:\(bound)")
        }
    }

    static func json(_ value: JSONValue) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: JSONCoding.serialize(value))))
    }
}

@Suite("JWKS key source")
struct JWKSKeySourceTests {
    static func jwk(kid: String) -> JSONValue {
        var key = SessionTokenIssuer.publicJWK(P256.Signing.PrivateKey().publicKey).objectValue!
        key["kid"] = .string(kid)
        return .object(key)
    }

    @Test("found through RFC 8414 metadata; a new kid triggers one refetch; within the refresh interval an unknown kid does not")
    func rotationAndRateLimit() async throws {
        let server = TestKeyServer()
        server.keys.withLock { $0 = [Self.jwk(kid: "k1")] }
        try await server.run { (issuer: String) async throws -> Void in
            let source = JWKSKeySource(issuer: issuer, minimumRefreshInterval: .zero, logger: Logger(label: "test"))
            #expect(try await source.key(kid: "k1")?.kid == "k1")
            #expect(server.fetches.withLock { $0 } == 1)
            #expect(try await source.key(kid: "k1") != nil)
            #expect(server.fetches.withLock { $0 } == 1)  // cached
            server.keys.withLock { $0.append(Self.jwk(kid: "k2")) }
            #expect(try await source.key(kid: "k2")?.kid == "k2")  // rotation: fetched again for the unknown kid
            #expect(server.fetches.withLock { $0 } == 2)
            let limited = JWKSKeySource(issuer: issuer, minimumRefreshInterval: .seconds(3_600), logger: Logger(label: "test"))
            #expect(try await limited.key(kid: "k1") != nil)
            for _ in 0..<20 { #expect(try await limited.key(kid: "forged-\(UUID())") == nil) }
            #expect(server.fetches.withLock { $0 } == 3)  // twenty forged kids, no extra fetch
        }
    }

    @Test("bounded: at most maxKeys keys; non-signature keys are skipped")
    func bounds() async throws {
        let server = TestKeyServer()
        var keys = (0..<80).map { Self.jwk(kid: "k\($0)") }
        keys.insert(["kty": "oct", "kid": "hmac", "k": "c2VjcmV0"], at: 0)
        keys.insert(["kty": "RSA", "kid": "enc", "use": "enc", "n": "AQAB", "e": "AQAB"], at: 0)
        server.keys.withLock { $0 = keys }
        try await server.run { (issuer: String) async throws -> Void in
            let source = JWKSKeySource(issuer: issuer, maxKeys: 50, logger: Logger(label: "test"))
            #expect(try await source.key(kid: "k0") != nil)
            #expect(try await source.key(kid: "k47") != nil)
            #expect(try await source.key(kid: "k60") == nil)
            #expect(try await source.key(kid: "hmac") == nil)
            #expect(try await source.key(kid: "enc") == nil)
        }
    }

    @Test("metadata that names another issuer is refused: no keys, 503-style unavailability")
    func issuerMismatch() async throws {
        let server = TestKeyServer()
        server.keys.withLock { $0 = [Self.jwk(kid: "k1")] }
        server.statedIssuer.withLock { $0 = "https://evil.example" }
        try await server.run { (issuer: String) async throws -> Void in
            let source = JWKSKeySource(issuer: issuer, logger: Logger(label: "test"))
            await #expect(throws: AuthFailure.self) { try await source.key(kid: "k1") }
            #expect(server.fetches.withLock { $0 } == 0)
        }
    }
}
