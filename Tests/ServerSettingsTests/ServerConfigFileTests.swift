import Foundation
import ServerSettings
import Testing

@Suite("serve --config file")
struct ServerConfigFileTests {
    @Test("YAML and JSON forms read the same settings")
    func parses() throws {
        let yaml = """
            transport: http
            port: 9090
            engine:
              url: wss://qlik.example.com
              user_directory: CORP
              user_id: svc
              api_key_env: QLIK_KEY
            tools:
              toolsets: [apps, analytics]
              disable: [reload_app]
              read_only: true
            http:
              max_sessions: 50
              allowed_hosts: ["mcp.example.com"]
              debug_endpoints: true
            """
        let config = try ServerConfigFile.parse(yaml)
        #expect(config.transport == "http" && config.port == 9090 && config.engineURL == "wss://qlik.example.com")
        #expect(config.userDirectory == "CORP" && config.apiKeyEnv == "QLIK_KEY")
        #expect(config.toolsets == ["apps", "analytics"] && config.disableTools == ["reload_app"] && config.readOnly == true)
        #expect(config.maxSessions == 50 && config.allowedHosts == ["mcp.example.com"] && config.debugEndpoints == true)
        let json = try ServerConfigFile.parse(#"{"transport": "http", "port": 9090, "tools": {"read_only": true}}"#)
        #expect(json.transport == "http" && json.port == 9090 && json.readOnly == true)
        #expect(try ServerConfigFile.parse("") == ServerConfigFile())
    }

    @Test("the auth section: every setting read; secrets refused")
    func auth() throws {
        let config = try ServerConfigFile.parse(
            """
            auth:
              mode: oauth+apikey
              public_url: https://mcp.example.com
              provider: entra
              tenant: 0000-1111
              client_id: app-id
              client_secret_file: /run/secrets/s
              signing_keys: [/k1.pem, /k2.pem]
              apikeys_file: /keys.json
              default_scopes: [qlik:read]
              access_token_ttl: 900
              identity_claim: upn
            """)
        #expect(config.auth.mode == "oauth+apikey" && config.auth.publicURL == "https://mcp.example.com" && config.auth.provider == "entra")
        #expect(config.auth.tenant == "0000-1111" && config.auth.clientID == "app-id" && config.auth.clientSecretFile == "/run/secrets/s")
        #expect(config.auth.signingKeys == ["/k1.pem", "/k2.pem"] && config.auth.apiKeysFile == "/keys.json" && config.auth.defaultScopes == ["qlik:read"])
        #expect(config.auth.accessTokenTTL == 900 && config.auth.identityClaim == "upn")
        for (text, message) in [
            ("auth:\n  client_secret: hunter2\n", "do not put the client secret in the file"),
            ("auth:\n  mode: basic\n", "auth.mode must be one of"), ("auth:\n  provider: okta\n", "auth.provider must be one of"),
            ("auth:\n  access_token_ttl: 5\n", "between 60 and 86400"),
        ] {
            #expect(throws: ServerConfigFile.Error.self) { try ServerConfigFile.parse(text) }
            do { _ = try ServerConfigFile.parse(text) } catch let error as ServerConfigFile.Error { #expect(error.message.contains(message), "\(error.message)") }
        }
    }

    @Test(
        "errors name the line and column and say what is expected",
        arguments: [
            ("port: eighty\n", 1, "port must be a whole number"),
            ("transport: http\nport: 70000\n", 2, "port must be between 0 and 65535"),
            ("transport: ftp\n", 1, "transport must be one of stdio, http"),
            ("http:\n  max_sesions: 5\n", 2, "unknown setting 'http.max_sesions'"),
            ("tools:\n  toolsets: apps\n", 2, "tools.toolsets must be a list"),
            ("engine:\n  api_key: secret\n", 2, "do not put the API key in the file"),
            ("tools: [\n", 2, "not valid YAML/JSON"),
            ("colour: red\n", 1, "unknown setting 'colour'"),
            ("http:\n  debug_endpoints: maybe\n", 2, "must be true or false"),
        ] as [(String, Int, String)])
    func errors(text: String, line: Int, message: String) {
        #expect {
            try ServerConfigFile.parse(text, file: "qlik-mcp.yaml")
        } throws: { error in
            guard let error = error as? ServerConfigFile.Error else { return false }
            return error.line == line && error.description.hasPrefix("qlik-mcp.yaml:\(line):") && error.message.contains(message)
        }
    }

    @Test("the cache section: every setting read; bad values named with their position")
    func cacheSection() throws {
        let config = try ServerConfigFile.parse(
            """
            cache:
              mode: redis
              ttl: {metadata: 600, master_items: 120.5, data: 0}
              stale: {metadata: 3600}
              max_bytes: 134217728
              max_entry_bytes: 1048576
              negative_ttl: 2
              warm: [sales-analytics, hr-insights]
              allow_bypass: false
              version_interval: 0.5
            """)
        #expect(config.cache.mode == "redis")
        #expect(config.cache.ttl == ["metadata": 600, "master_items": 120.5, "data": 0])
        #expect(config.cache.stale == ["metadata": 3600])
        #expect(config.cache.maxBytes == 134_217_728 && config.cache.maxEntryBytes == 1_048_576)
        #expect(config.cache.negativeTTL == 2 && config.cache.versionInterval == 0.5)
        #expect(config.cache.warm == ["sales-analytics", "hr-insights"] && config.cache.allowBypass == false)
        #expect(try ServerConfigFile.parse("cache:\n  warm: all\n").cache.warm == ["all"])
        for (text, line, message) in [
            ("cache:\n  mode: disk\n", 2, "cache.mode must be one of off, memory, redis"),
            ("cache:\n  ttl: {metadata: -1}\n", 2, "between 0.0 and 604800.0 seconds"),
            ("cache:\n  ttl: {everything: 5}\n", 2, "unknown setting 'cache.ttl.everything'"),
            ("cache:\n  max_bytes: 12\n", 2, "cache.max_bytes must be between"),
            ("cache:\n  version_interval: soon\n", 2, "must be a number of seconds"),
        ] {
            #expect {
                try ServerConfigFile.parse(text, file: "c.yaml")
            } throws: { error in
                guard let error = error as? ServerConfigFile.Error else { return false }
                return error.line == line && error.message.contains(message)
            }
        }
    }

    @Test("the resilience section: every setting read; bad values named with their position")
    func resilienceSection() throws {
        let config = try ServerConfigFile.parse(
            """
            resilience:
              enabled: false
              breakers:
                engine: {window: 20, min_calls: 5, failure_rate: 0.25, slow_call: 2.5, open_for: 30, probes: 2}
                tool: {min_calls: 50}
              retry: {attempts: 4, base_ms: 20, budget_ratio: 0.1}
              engine_timeout: 12.5
              ready_fails_on_open_breaker: true
              data_dir: /var/lib/qlik-mcp
            """)
        #expect(config.resilience.breakers?["engine"] == ["window": 20, "min_calls": 5, "failure_rate": 0.25, "slow_call": 2.5, "open_for": 30, "probes": 2])
        #expect(config.resilience.breakers?["tool"] == ["min_calls": 50])
        #expect(config.resilience.retry == ["attempts": 4, "base_ms": 20, "budget_ratio": 0.1])
        #expect(config.resilience.engineTimeout == 12.5 && config.resilience.readyFailsOnOpenBreaker == true)
        #expect(config.resilience.dataDir == "/var/lib/qlik-mcp" && config.resilience.enabled == false)
        for (text, line, message) in [
            ("resilience:\n  breakers:\n    tenant: {window: 5}\n", 3, "unknown setting 'resilience.breakers.tenant'"),
            ("resilience:\n  breakers:\n    engine: {failure_rate: 3}\n", 3, "resilience.breakers.engine.failure_rate must be between 0.01 and 1.0"),
            ("resilience:\n  retry: {attempt: 3}\n", 2, "unknown setting 'resilience.retry.attempt'"),
            ("resilience:\n  retry: {attempts: many}\n", 2, "resilience.retry.attempts must be a number"),
            ("resilience:\n  engine_timeout: 0\n", 2, "resilience.engine_timeout must be between"),
            ("resilience:\n  breaker: {}\n", 2, "unknown setting 'resilience.breaker'"),
        ] {
            #expect {
                try ServerConfigFile.parse(text, file: "c.yaml")
            } throws: { error in
                guard let error = error as? ServerConfigFile.Error else { return false }
                return error.line == line && error.message.contains(message)
            }
        }
    }

    @Test("the limits section: every setting read; bad values named with their position")
    func limitsSection() throws {
        let config = try ServerConfigFile.parse(
            """
            limits:
              principal: 5/s
              principal_burst: 10
              tools: {query_data: 5/s, reload_app: 1/m}
              tenant: 200/s
              ip: 30/m
              ip_burst: 10
              replicas: 3
              engine_concurrency: off
            """)
        #expect(config.limits.principal == "5/s" && config.limits.principalBurst == 10)
        #expect(config.limits.tools == ["query_data": "5/s", "reload_app": "1/m"])
        #expect(config.limits.tenant == "200/s" && config.limits.ip == "30/m" && config.limits.ipBurst == 10)
        #expect(config.limits.replicas == 3 && config.limits.engineConcurrency == "off")
        for (text, line, message) in [
            ("limits:\n  principal_burst: 0\n", 2, "limits.principal_burst must be between 1 and 1000000"),
            ("limits:\n  tools: [query_data]\n", 2, "limits.tools must be a mapping"),
            ("limits:\n  engine_concurrency: fast\n", 2, "limits.engine_concurrency must be one of adaptive, off"),
            ("limits:\n  per_ip: 5/s\n", 2, "unknown setting 'limits.per_ip'"),
        ] {
            #expect {
                try ServerConfigFile.parse(text, file: "c.yaml")
            } throws: { error in
                guard let error = error as? ServerConfigFile.Error else { return false }
                return error.line == line && error.message.contains(message)
            }
        }
    }

    @Test("missing file is a clear error")
    func missing() {
        #expect(throws: ServerConfigFile.Error.self) { try ServerConfigFile.load(path: "/nonexistent/qlik-mcp.yaml") }
    }
}
