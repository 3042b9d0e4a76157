import Foundation

/// What any replica needs to serve a session it has never seen: who owns it, what it
/// negotiated, and the tool state the client changed. Stored as JSON under the session's key with
/// the idle timeout as its TTL, refreshed by every request.
public struct SessionRecord: Codable, Sendable, Equatable {
    public var id: String
    /// `http` (Streamable HTTP) or `sse` (legacy HTTP+SSE).
    public var kind: String
    /// `Principal.ownerKey` of the user who opened it (nil without auth).
    public var owner: String?
    /// The client's `initialize` params as JSON (protocol version, capabilities, client info):
    /// replayed into a fresh SDK server so it negotiates exactly what the client did.
    public var initializeParams: String?
    /// Toolsets the client enabled (dynamic tool mode), sorted.
    public var toolsets: [String]
    /// Seconds since 1970 when the session was created.
    public var createdAt: Double

    public init(id: String, kind: String, owner: String?, initializeParams: String?, toolsets: [String] = [], createdAt: Double = Date().timeIntervalSince1970) {
        self.id = id
        self.kind = kind
        self.owner = owner
        self.initializeParams = initializeParams
        self.toolsets = toolsets
        self.createdAt = createdAt
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return encoder
    }()

    func json() throws -> String { String(decoding: try Self.encoder.encode(self), as: UTF8.self) }

    private static let decoder = JSONDecoder()

    /// Decodes a stored record (every request reads one: one decoder, not one per call).
    static func decode(_ text: String) -> SessionRecord? { try? decoder.decode(SessionRecord.self, from: Data(text.utf8)) }
}
