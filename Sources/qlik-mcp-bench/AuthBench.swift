import ArgumentParser
import Crypto
import Foundation
import MCPAuth
import MCPServerHost
import QlikTools

/// `qlik-mcp-bench auth`: what checking credentials costs per request, in process — a full ES256
/// access-token validation, a validated-token cache hit, an API key check — next to the HTTP
/// numbers of `bench load --auth-compare`.
struct AuthBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "auth",
        abstract: "Measure token validation (full and cached) and API key checks per request."
    )

    @Option(help: "Checks to time per case.") var iterations = 20_000
    @Option(help: "Also write the results as JSON to this file.") var json: String?

    func validate() throws {
        guard (100...10_000_000).contains(iterations) else { throw ValidationError("--iterations must be between 100 and 10,000,000") }
    }

    func run() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("qlik-mcp-auth-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let pem = folder.appendingPathComponent("signing.pem")
        try P256.Signing.PrivateKey().pemRepresentation.write(to: pem, atomically: true, encoding: .utf8)
        let issuer = try await SessionTokenIssuer.load(pemFiles: [pem.path], issuer: "https://bench/oauth", audience: "https://bench/mcp", lifetime: 3_600)
        let token = try await issuer.mint(subject: "bench|1", scopes: ["qlik:read"], clientID: "bench", family: "f", claims: [:]).token
        let full = JWTAccessTokenValidator(issuer: "https://bench/oauth", audience: "https://bench/mcp", keys: issuer.verificationKeys, allowedAlgorithms: ["ES256"])
        let cached = JWTAccessTokenValidator(
            issuer: "https://bench/oauth", audience: "https://bench/mcp", keys: issuer.verificationKeys,
            allowedAlgorithms: ["ES256"], cacheValidated: true)
        let store = APIKeyStore(path: folder.appendingPathComponent("apikeys.json"))
        let (key, _) = try store.create(name: "bench", scopes: [.read], expiresInDays: 1)
        let keys = try APIKeyFileVerifier(store: store)

        var report = BenchReport(title: "qlik-mcp auth benchmark (\(iterations) checks per case, one task)")
        report.add("JWT ES256, full validation", try await time { try await full.validate(token).get() }, "µs/check")
        report.add("JWT ES256, cache hit", try await time { try await cached.validate(token).get() }, "µs/check")
        report.add("API key (stat + SHA-256)", try await time { try keys.verify(key).get() }, "µs/check")
        report.printTable()
        if let json { try report.writeJSON(to: json) }
    }

    private func time<T>(_ body: () async throws -> T) async throws -> Double {
        try await microsecondsPerCall(iterations: iterations, body)
    }
}
