import JSONCore
import QlikEngine
import Synchronization

/// The Qlik engine the tools talk to: endpoint, connection pool and app listing.
public final class QlikBackend: Sendable {
    /// `demo`, `desktop`, `enterprise` or `cloud`.
    public let kind: String
    public let endpoint: QIXEndpoint
    public let pool: QIXConnectionPool
    public let lister: AppLister
    /// Reload tasks and history; nil where the deployment has none (Qlik Sense Desktop).
    public let reloads: (any ReloadSource)?
    /// Field names per identity and app (short-lived; dropped when the app is reloaded). Shared by
    /// the backends of every identity (`acting(as:)`), so a reload drops them for all.
    public let fieldNames: FieldNameCache

    /// `reloads` defaults to the Qlik REST APIs of the endpoint's deployment.
    public init(
        kind: String, endpoint: QIXEndpoint, pool: QIXConnectionPool = QIXConnectionPool(), lister: AppLister? = nil,
        reloads: (any ReloadSource)? = nil, fieldNames: FieldNameCache = FieldNameCache()
    ) {
        self.kind = kind
        self.endpoint = endpoint
        self.pool = pool
        self.lister = lister ?? AppLister(endpoint: endpoint)
        self.reloads = reloads ?? QlikReloadSource(endpoint: endpoint)
        self.fieldNames = fieldNames
    }

    /// Runs `body` with the app open in the caller's session (`tag`), so selections persist per
    /// MCP session and never leak to another one. The engine session is the one of the MCP
    /// session's identity, so every replica serving the MCP session sees the same selections.
    public func withDoc<T: Sendable>(_ appID: String, tag: String, _ body: @Sendable (Doc, QIXConnectionPool.Lease) async throws -> T) async throws -> T {
        guard !appID.isEmpty else {
            throw ToolError(code: "APP_ID_REQUIRED", category: .invalidArgument, message: "app_id is empty", remediation: "call list_apps and pass an app id")
        }
        if let rejection = EngineGate.check(endpoint.engineID) { throw rejection }
        do {
            return try await pool.withSession(endpoint, appID: appID, tag: tag, engineIdentity: QIXEndpoint.sessionIdentity(for: tag)) { lease in
                guard let doc = lease.doc else { throw QIXClientError.protocolViolation("no app open") }
                return try await body(doc, lease)
            }
        } catch let error as QIXError where error.code == 1003 {
            let known = (try? await lister.listApps().map(\.id)) ?? []
            throw ToolError.notFound("app", appID, candidates: known, listTool: "list_apps")
        }
    }

    /// The same deployment reached as another engine identity (hybrid mode), sharing the
    /// connection pool — whose keys include the identity, so users never share engine sessions.
    public func acting(as endpoint: QIXEndpoint) -> QlikBackend {
        QlikBackend(kind: kind, endpoint: endpoint, pool: pool, fieldNames: fieldNames)
    }

    /// Runs `body` on a Global-only session.
    public func withGlobal<T: Sendable>(_ body: @Sendable (Global) async throws -> T) async throws -> T {
        if let rejection = EngineGate.check(endpoint.engineID) { throw rejection }
        return try await pool.withSession(endpoint, appID: nil, tag: "global") { lease in try await body(lease.global) }
    }
}

/// What a tool handler gets besides its arguments.
public struct ToolContext: Sendable {
    public let backend: QlikBackend
    /// The MCP session id (selection state is kept per session).
    public let sessionID: String
    /// Sends MCP progress notifications for this call; nil when the client sent no progress token.
    public let progress: ProgressReporter?
    /// Attributes the host knows about this call (OTel MCP conventions such as `jsonrpc.request.id`,
    /// `mcp.protocol.version`, `network.transport`), set on the `tools/call` span.
    public let callAttributes: [String: String]
    /// What the caller asked of this call in `_meta`: cache bypass, deadline, idempotency key.
    public let directives: CallDirectives
    /// The authenticated caller's pseudonym (`enduser.pseudo.id`; nil without auth): what rate
    /// limits, idempotency keys and dead letters are kept per.
    public let principalID: String?
    /// The caller asked to skip the cache for this call (`_meta.cache = "bypass"`, when allowed).
    public var cacheBypass: Bool { directives.cacheBypass }
    /// When the call must be answered (`_meta.timeoutMs`): engine requests and pool waits end by
    /// then and no retry starts after it (`CallDeadline`).
    public var deadline: ContinuousClock.Instant? { directives.deadline }

    public init(
        backend: QlikBackend, sessionID: String, progress: ProgressReporter? = nil, callAttributes: [String: String] = [:],
        directives: CallDirectives = CallDirectives(), principalID: String? = nil
    ) {
        self.backend = backend
        self.sessionID = sessionID
        self.progress = progress
        self.callAttributes = callAttributes
        self.directives = directives
        self.principalID = principalID
    }

    /// The same context for one call: its progress reporter, span attributes and directives.
    public func forCall(progress: ProgressReporter?, attributes: [String: String] = [:], directives: CallDirectives = CallDirectives()) -> ToolContext {
        ToolContext(backend: backend, sessionID: sessionID, progress: progress, callAttributes: attributes, directives: directives, principalID: principalID)
    }
}

/// Reports progress of a long tool call (`notifications/progress`). Each `advance` sends the next
/// step number (the protocol requires progress to increase), with the total on the last one.
public final class ProgressReporter: Sendable {
    private let send: @Sendable (_ progress: Double, _ total: Double?, _ message: String?) async -> Void
    private let steps = Mutex(0.0)

    public init(_ send: @escaping @Sendable (_ progress: Double, _ total: Double?, _ message: String?) async -> Void) {
        self.send = send
    }

    /// Sends the next step; `final` also sends it as the total (the work is complete).
    public func advance(_ message: String, final: Bool = false) async {
        let step = steps.withLock { value -> Double in
            value += 1
            return value
        }
        await send(step, final ? step : nil, message)
    }
}
