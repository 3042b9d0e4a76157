import Synchronization

/// The selection state of one engine session, which several sockets can share.
final class SelectionBox: Sendable {
    private let state = Mutex(SelectionState())

    var value: SelectionState {
        get { state.withLock { $0 } }
        set { state.withLock { $0 = newValue } }
    }
}

/// Engine sessions by (user, app, identity), as a Qlik engine keys them: sockets opened on
/// `/app/<id>/identity/<key>` by the same user share one selection state; other identities,
/// other users and sockets without an identity each have their own. The state outlives its
/// sockets (a client that reconnects, or another replica of the MCP server, finds its
/// selections), for `retention` after its last use, and at most `limit` identities are kept
/// (least recently used dropped first), so the table stays bounded.
final class SharedSelections: Sendable {
    private struct Entry {
        let box: SelectionBox
        var lastUsed: ContinuousClock.Instant
    }

    private let table = Mutex<[String: Entry]>([:])
    let limit: Int
    let retention: Duration

    init(limit: Int = 10_000, retention: Duration = .seconds(3_600)) {
        self.limit = max(1, limit)
        self.retention = retention
    }

    /// The selection state for this user, app and identity (a private one without identity).
    func box(user: String, appID: String, identity: String?) -> SelectionBox {
        guard let identity, !identity.isEmpty else { return SelectionBox() }
        let key = "\(user)\u{0}\(appID)\u{0}\(identity)"
        let now = ContinuousClock.now
        return table.withLock { table in
            if let entry = table[key], now - entry.lastUsed <= retention {
                table[key]?.lastUsed = now
                return entry.box
            }
            if table.count >= limit {
                table = table.filter { now - $0.value.lastUsed <= retention }
                while table.count >= limit, let oldest = table.min(by: { $0.value.lastUsed < $1.value.lastUsed })?.key { table[oldest] = nil }
            }
            let box = SelectionBox()
            table[key] = Entry(box: box, lastUsed: now)
            return box
        }
    }

    var count: Int { table.withLock { $0.count } }
}
