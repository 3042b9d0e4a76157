import Foundation
import Yams

/// The `serve --config` file (YAML, or JSON which YAML reads too): settings that are also flags,
/// grouped. Flags and `QLIK_MCP_*` variables win over the file. Every error names the line and
/// column and says what is expected.
///
/// ```yaml
/// transport: http            # stdio | http
/// host: 127.0.0.1
/// port: 8080
/// engine:
///   url: wss://qlik.example.com   # omit (or demo: true) for the demo engine
///   cert: /etc/qlik/client.pem
///   key: /etc/qlik/client_key.pem
///   ca: /etc/qlik/root.pem
///   user_directory: CORP
///   user_id: svc_mcp
///   api_key_env: QLIK_CLOUD_KEY    # the API key itself never goes in the file
/// tools:
///   toolsets: [apps, analytics]
///   disable: [reload_app]
///   read_only: true
///   dynamic: false
/// http:
///   max_sessions: 1000
///   session_idle_timeout: 1800
///   max_body_bytes: 1048576
///   request_timeout: 300
///   drain_timeout: 25
///   allowed_hosts: ["mcp.example.com"]
///   allowed_origins: []
///   debug_endpoints: false
/// ```
public struct ServerConfigFile: Sendable, Equatable {
    public var transport: String?
    public var host: String?
    public var port: Int?
    public var engineURL: String?
    public var demo: Bool?
    public var cert: String?
    public var key: String?
    public var ca: String?
    public var userDirectory: String?
    public var userID: String?
    public var apiKeyEnv: String?
    public var toolsets: [String]?
    public var disableTools: [String]?
    public var readOnly: Bool?
    public var dynamic: Bool?
    public var maxSessions: Int?
    public var sessionIdleTimeout: Int?
    public var maxBodyBytes: Int?
    public var requestTimeout: Int?
    public var drainTimeout: Int?
    public var allowedHosts: [String]?
    public var allowedOrigins: [String]?
    public var debugEndpoints: Bool?

    public init() {}

    /// A configuration error with its position.
    public struct Error: Swift.Error, CustomStringConvertible, Equatable {
        public let file: String
        public let line: Int
        public let column: Int
        public let message: String
        public var description: String { "\(file):\(line):\(column): \(message)" }
    }

    /// Largest file read (a configuration file is small; anything bigger is a mistake).
    public static let maxBytes = 256 * 1024

    public static func load(path: String) throws -> ServerConfigFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Error(file: path, line: 0, column: 0, message: "cannot read the file (check the path and permissions)")
        }
        guard data.count <= maxBytes else { throw Error(file: path, line: 0, column: 0, message: "the file is larger than \(maxBytes / 1024) KiB") }
        return try parse(String(decoding: data, as: UTF8.self), file: path)
    }

    public static func parse(_ text: String, file: String = "config") throws -> ServerConfigFile {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw Self.syntaxError(error, file: file)
        }
        var config = ServerConfigFile()
        guard let root else { return config }
        let reader = Reader(file: file)
        let top = try reader.mapping(root, "the file", keys: ["transport", "host", "port", "engine", "tools", "http"])
        config.transport = try top["transport"].map { try reader.choice($0, "transport", ["stdio", "http"]) }
        config.host = try top["host"].map { try reader.string($0, "host") }
        config.port = try top["port"].map { try reader.int($0, "port", 0...65_535) }
        if let engine = top["engine"] {
            let section = try reader.mapping(engine, "engine", keys: ["url", "demo", "cert", "key", "ca", "user_directory", "user_id", "api_key_env", "api_key"])
            if let key = section["api_key"] {
                throw reader.error(key, "do not put the API key in the file: set api_key_env to the name of an environment variable that holds it")
            }
            config.engineURL = try section["url"].map { try reader.string($0, "engine.url") }
            config.demo = try section["demo"].map { try reader.bool($0, "engine.demo") }
            config.cert = try section["cert"].map { try reader.string($0, "engine.cert") }
            config.key = try section["key"].map { try reader.string($0, "engine.key") }
            config.ca = try section["ca"].map { try reader.string($0, "engine.ca") }
            config.userDirectory = try section["user_directory"].map { try reader.string($0, "engine.user_directory") }
            config.userID = try section["user_id"].map { try reader.string($0, "engine.user_id") }
            config.apiKeyEnv = try section["api_key_env"].map { try reader.string($0, "engine.api_key_env") }
        }
        if let tools = top["tools"] {
            let section = try reader.mapping(tools, "tools", keys: ["toolsets", "disable", "read_only", "dynamic"])
            config.toolsets = try section["toolsets"].map { try reader.strings($0, "tools.toolsets") }
            config.disableTools = try section["disable"].map { try reader.strings($0, "tools.disable") }
            config.readOnly = try section["read_only"].map { try reader.bool($0, "tools.read_only") }
            config.dynamic = try section["dynamic"].map { try reader.bool($0, "tools.dynamic") }
        }
        if let http = top["http"] {
            let section = try reader.mapping(http, "http", keys: ["max_sessions", "session_idle_timeout", "max_body_bytes", "request_timeout",
                                                                 "drain_timeout", "allowed_hosts", "allowed_origins", "debug_endpoints"])
            config.maxSessions = try section["max_sessions"].map { try reader.int($0, "http.max_sessions", 1...1_000_000) }
            config.sessionIdleTimeout = try section["session_idle_timeout"].map { try reader.int($0, "http.session_idle_timeout", 1...86_400) }
            config.maxBodyBytes = try section["max_body_bytes"].map { try reader.int($0, "http.max_body_bytes", 1_024...(64 << 20)) }
            config.requestTimeout = try section["request_timeout"].map { try reader.int($0, "http.request_timeout", 1...7_200) }
            config.drainTimeout = try section["drain_timeout"].map { try reader.int($0, "http.drain_timeout", 0...3_600) }
            config.allowedHosts = try section["allowed_hosts"].map { try reader.strings($0, "http.allowed_hosts") }
            config.allowedOrigins = try section["allowed_origins"].map { try reader.strings($0, "http.allowed_origins") }
            config.debugEndpoints = try section["debug_endpoints"].map { try reader.bool($0, "http.debug_endpoints") }
        }
        return config
    }

    static func syntaxError(_ error: YamlError, file: String) -> Error {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return Error(file: file, line: mark.line, column: mark.column, message: "not valid YAML/JSON: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, _):
            return Error(file: file, line: 0, column: 0, message: "duplicated keys: \(duplicates.joined(separator: ", "))")
        default:
            return Error(file: file, line: 0, column: 0, message: "not valid YAML/JSON: \(error)")
        }
    }

    /// Typed access to nodes with positioned errors.
    struct Reader {
        let file: String

        func error(_ node: Node, _ message: String) -> Error {
            Error(file: file, line: node.mark?.line ?? 0, column: node.mark?.column ?? 0, message: message)
        }

        func mapping(_ node: Node, _ name: String, keys: Set<String>) throws -> [String: Node] {
            guard case .mapping(let mapping) = node else { throw error(node, "\(name) must be a mapping (key: value lines)") }
            var result: [String: Node] = [:]
            for (key, value) in mapping {
                guard let text = key.string else { throw error(key, "keys must be text") }
                guard keys.contains(text) else {
                    let prefix = name == "the file" ? "" : "\(name)."
                    throw error(key, "unknown setting '\(prefix)\(text)'; known: \(keys.sorted().joined(separator: ", "))")
                }
                guard result[text] == nil else { throw error(key, "'\(text)' appears twice") }
                result[text] = value
            }
            return result
        }

        func string(_ node: Node, _ name: String) throws -> String {
            guard case .scalar(let scalar) = node, !scalar.string.isEmpty else { throw error(node, "\(name) must be a non-empty text value") }
            return scalar.string
        }

        func choice(_ node: Node, _ name: String, _ options: [String]) throws -> String {
            let value = try string(node, name)
            guard options.contains(value) else { throw error(node, "\(name) must be one of \(options.joined(separator: ", ")) (got '\(value)')") }
            return value
        }

        func int(_ node: Node, _ name: String, _ range: ClosedRange<Int>) throws -> Int {
            guard case .scalar = node, let value = node.int else { throw error(node, "\(name) must be a whole number") }
            guard range.contains(value) else { throw error(node, "\(name) must be between \(range.lowerBound) and \(range.upperBound) (got \(value))") }
            return value
        }

        func bool(_ node: Node, _ name: String) throws -> Bool {
            guard case .scalar = node, let value = node.bool else { throw error(node, "\(name) must be true or false") }
            return value
        }

        func strings(_ node: Node, _ name: String) throws -> [String] {
            guard case .sequence(let sequence) = node else { throw error(node, "\(name) must be a list, e.g. [a, b]") }
            guard sequence.count <= 1_000 else { throw error(node, "\(name) has more than 1,000 entries") }
            return try sequence.map { try string($0, "each entry of \(name)") }
        }
    }
}
