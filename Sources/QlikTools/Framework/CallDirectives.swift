import JSONCore
import Resilience

/// What a caller asks of one `tools/call` besides its arguments, read from `params._meta`:
///
/// | `_meta` key | value | effect |
/// |---|---|---|
/// | `cache` | `"bypass"` | a fresh answer (when the server allows it) |
/// | `timeoutMs` | 1 … 3,600,000 | the call's deadline: engine requests and pool waits end by then, no retry starts after it |
/// | `idempotencyKey` | 1–255 printable ASCII characters | a write or reload runs at most once per key (a repeat gets the first result) and may be retried |
///
/// Other `_meta` keys are ignored (they belong to the protocol or other tools); these three are
/// validated, and a bad value is refused as an invalid parameter naming it.
public struct CallDirectives: Sendable, Equatable {
    public var cacheBypass: Bool
    public var deadline: ContinuousClock.Instant?
    public var idempotencyKey: String?

    public init(cacheBypass: Bool = false, deadline: ContinuousClock.Instant? = nil, idempotencyKey: String? = nil) {
        self.cacheBypass = cacheBypass
        self.deadline = deadline
        self.idempotencyKey = idempotencyKey
    }

    /// The directives in `meta` (a `tools/call`'s `params._meta`).
    public init(meta: JSONValue?, now: ContinuousClock.Instant = .now) throws(ArgumentError) {
        self.init()
        guard let meta, meta != .null else { return }
        switch meta["cache"] {
        case nil, .null: break
        case .string("bypass"): cacheBypass = true
        case .string: break  // other values ("default", …) leave the cache as it is
        default: throw ArgumentError(field: "_meta.cache", message: "must be the text \"bypass\"")
        }
        switch meta["timeoutMs"] {
        case nil, .null: break
        case .number(let milliseconds) where (1...3_600_000).contains(milliseconds):
            deadline = now + .microseconds(Int64(milliseconds * 1000))
        default: throw ArgumentError(field: "_meta.timeoutMs", message: "must be a number of milliseconds from 1 to 3600000")
        }
        switch meta["idempotencyKey"] {
        case nil, .null: break
        case .string(let key):
            if let problem = Idempotency.problem(with: key) { throw ArgumentError(field: "_meta.idempotencyKey", message: problem) }
            idempotencyKey = key
        default: throw ArgumentError(field: "_meta.idempotencyKey", message: "must be a text of 1 to \(Idempotency.maxKeyLength) printable ASCII characters")
        }
    }
}
