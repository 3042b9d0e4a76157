import Foundation

/// Where Redis is: `redis://[user[:password]@]host[:port][/db]` or `rediss://…` (TLS).
/// The password may also come from elsewhere (a file or the environment — never the config file):
/// pass it to `RedisConfiguration` instead of the URL.
public struct RedisURL: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var database: Int
    public var username: String?
    public var password: String?
    public var tls: Bool

    public init(host: String, port: Int = 6379, database: Int = 0, username: String? = nil, password: String? = nil, tls: Bool = false) {
        self.host = host
        self.port = port
        self.database = database
        self.username = username
        self.password = password
        self.tls = tls
    }

    /// Parses a URL; the error says what is wrong and what is expected.
    public init(parsing text: String) throws {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(), scheme == "redis" || scheme == "rediss" else {
            throw RedisError.configuration("'\(text.prefix(100))' is not a Redis URL: expected redis://[user:password@]host[:port][/db] or rediss://… for TLS")
        }
        guard let host = components.host, !host.isEmpty else {
            throw RedisError.configuration("the Redis URL has no host: expected redis://host:6379")
        }
        let path = components.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        guard path.isEmpty || (Int(path).map { (0...15_999).contains($0) } ?? false) else {
            throw RedisError.configuration("the Redis URL's path must be a database number (0, 1, …), not '\(path.prefix(40))'")
        }
        guard (components.port ?? 6379) > 0, (components.port ?? 6379) < 65_536 else {
            throw RedisError.configuration("the Redis port must be between 1 and 65535")
        }
        self.init(
            host: host, port: components.port ?? 6379, database: Int(path) ?? 0,
            username: components.percentEncodedUser.flatMap { $0.isEmpty ? nil : $0.removingPercentEncoding },
            password: components.percentEncodedPassword.flatMap { $0.removingPercentEncoding },
            tls: scheme == "rediss")
    }

    /// The URL without its password (for logs and errors).
    public var description: String {
        let user = username.map { "\($0)\(password == nil ? "" : ":***")@" } ?? (password == nil ? "" : ":***@")
        return "\(tls ? "rediss" : "redis")://\(user)\(host):\(port)/\(database)"
    }
}

/// Errors of the Redis client.
public enum RedisError: Error, CustomStringConvertible, Equatable {
    /// The server answered with an error reply (`ERR …`, `WRONGTYPE …`, `NOSCRIPT …`).
    case server(String)
    /// No answer within the command's timeout; the connection was closed.
    case timeout(command: String)
    /// The connection is closed (or closed while the command waited).
    case connectionClosed
    /// The server sent bytes that are not RESP3, or beyond the parser's limits.
    case protocolViolation(String)
    /// Bad configuration (URL, options).
    case configuration(String)
    /// Redis cannot be used now (unreachable, or the pool is exhausted): retry after the delay.
    case unavailable(reason: String, retryAfter: Duration)

    public var description: String {
        switch self {
        case .server(let message): return "Redis answered: \(message)"
        case .timeout(let command): return "Redis did not answer \(command) in time; the connection was closed"
        case .connectionClosed: return "the connection to Redis is closed"
        case .protocolViolation(let detail): return "Redis sent a malformed reply: \(detail)"
        case .configuration(let detail): return detail
        case .unavailable(let reason, let retryAfter):
            let seconds = max(1, Int((Double(retryAfter.components.seconds) + Double(retryAfter.components.attoseconds) / 1e18).rounded(.up)))
            return "\(reason) (retry after \(seconds) s)"
        }
    }
}
