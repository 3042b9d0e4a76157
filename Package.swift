// swift-tools-version:6.1
import PackageDescription

// Module direction (a module may import only modules to its left; docs/ARCHITECTURE.md explains
// each, and scripts/check-imports fails the tests when a source file breaks this):
//   JSONCore ← QIXWire ← QlikEngine ← QlikTools ← MCPAuth ← MCPServerHost ← qlik-mcp (CLI)
//   Telemetry (no project imports) is used by everything from QlikEngine on.
//   DemoEngine imports JSONCore, QIXWire, Telemetry, HTTPHardening only; it speaks to QlikEngine
//   over the wire. DemoWiring joins the two for the CLI, the benchmarks and the tests.
//   ServerSettings (the config file) is imported only by the CLI.
//   RedisClient (RESP3) ← ClusterState (state shared in Redis; also imports MCPAuth) ← MCPServerHost.
//   qlik-mcp-bench (benchmarks) is its own executable; nothing imports it.
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "qlik-mcp",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "qlik-mcp", targets: ["qlik-mcp"]),
        .executable(name: "qlik-mcp-bench", targets: ["qlik-mcp-bench"]),
        .library(name: "Telemetry", targets: ["Telemetry"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.1.0"),
        .package(url: "https://github.com/apple/swift-service-context.git", from: "1.1.0"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.28.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.2.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-async-algorithms.git", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.27.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.3.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.21.0"),
        .package(url: "https://github.com/modelcontextprotocol/swift-sdk.git", from: "0.12.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.0.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.1.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.0"..<"5.0.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.0.0"),
        .package(url: "https://github.com/swift-otel/swift-w3c-trace-context.git", from: "1.0.0"),
        // Attribute names only: no default traits (the `Tracing` trait adds typed span-attribute
        // accessors we do not use and most of the package's compile time).
        .package(url: "https://github.com/swift-otel/swift-otel-semantic-conventions.git", from: "1.44.0", traits: []),
    ],
    targets: [
        .systemLibrary(
            name: "COTLPCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev", "zlib1g-dev"])]
        ),
        // Code generated from the OpenTelemetry proto files in Protos/otlp (scripts/generate-otlp.sh).
        // Exclusivity checking is off in release builds for this module only: the generated message
        // storage is checked by SwiftProtobuf's own tests, and the dynamic checks cost about a fifth
        // of the encoding throughput.
        .target(
            name: "OTLPProto",
            dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")],
            exclude: ["README.md"],
            swiftSettings: swiftSettings + [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]
        ),
        // JSON values, a strict parser and a serialiser: what every layer that reads or writes
        // JSON-RPC shares. No dependencies.
        .target(
            name: "JSONCore",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Telemetry",
            dependencies: [
                "COTLPCurl",
                "OTLPProto",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
                .product(name: "ServiceContextModule", package: "swift-service-context"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "W3CTraceContext", package: "swift-w3c-trace-context"),
                .product(name: "OTelSemanticConventions", package: "swift-otel-semantic-conventions"),
            ],
            swiftSettings: swiftSettings
        ),
        // QIX (Qlik Engine JSON-RPC) wire types shared by the engine client and the demo engine,
        // which otherwise never import each other. Generated from Protos/qix/methods.json.
        .target(
            name: "QIXWire",
            dependencies: ["JSONCore"],
            swiftSettings: swiftSettings
        ),
        // Hardening shared by the two HTTP servers (MCP host and demo engine).
        .target(
            name: "HTTPHardening",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The QIX client: sessions over WebSocket, typed handles, deployments and auth, pool, app listing.
        .target(
            name: "QlikEngine",
            dependencies: [
                "JSONCore",
                "QIXWire",
                "Resilience",
                "Telemetry",
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: swiftSettings
        ),
        // The MCP toolsets over the QIX client (tools, schemas, error taxonomy, instrumentation).
        .target(
            name: "QlikTools",
            dependencies: [
                "JSONCore",
                "QlikEngine",
                "RateLimiting",
                "Resilience",
                "Telemetry",
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        // An in-process Qlik engine that speaks real QIX over a real WebSocket, with sample apps.
        .target(
            name: "DemoEngine",
            dependencies: [
                "HTTPHardening",
                "JSONCore",
                "QIXWire",
                "Telemetry",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The demo engine as the tools' backend (engine on a loopback port + QlikBackend + reload history).
        .target(
            name: "DemoWiring",
            dependencies: [
                "DemoEngine",
                "QlikEngine",
                "QlikTools",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Remote access: OAuth 2.1 resource server (JWT/JWKS, introspection), API keys, the
        // authorization-server proxy, scopes and the Qlik identity mapping.
        .target(
            name: "MCPAuth",
            dependencies: [
                "JSONCore",
                "QlikEngine",
                "QlikTools",
                "Telemetry",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        // A RESP3 Redis client on SwiftNIO (parser, pipelined connections, TLS). Hand-written: no
        // Swift Redis client is among the packages this project can use.
        .target(
            name: "RedisClient",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        // Resilience: circuit breakers, retries with jitter and budgets, idempotency keys, dead letters.
        .target(
            name: "Resilience",
            dependencies: ["Telemetry", .product(name: "Crypto", package: "swift-crypto"), .product(name: "Metrics", package: "swift-metrics")],
            swiftSettings: swiftSettings
        ),
        // Rate limits (GCRA) and the adaptive concurrency limit (AIMD); no Qlik, no MCP.
        .target(
            name: "RateLimiting",
            dependencies: ["Telemetry", .product(name: "Metrics", package: "swift-metrics")],
            swiftSettings: swiftSettings
        ),
        // The tool cache: L1 in process, the L2 seam, keys, invalidation, warming, flush_cache.
        .target(
            name: "ToolCache",
            dependencies: [
                "JSONCore",
                "QlikEngine",
                "QlikTools",
                "Telemetry",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // State shared by replicas in Redis: sessions, event logs, the bus, the OAuth proxy's store,
        // the cache's shared tier.
        .target(
            name: "ClusterState",
            dependencies: [
                "JSONCore",
                "MCPAuth",
                "RateLimiting",
                "RedisClient",
                "Resilience",
                "ToolCache",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The MCP server host: transports, HTTP routes, probes, sessions, drain.
        .target(
            name: "MCPServerHost",
            dependencies: [
                "ClusterState",
                "HTTPHardening",
                "JSONCore",
                "RateLimiting",
                "MCPAuth",
                "QlikEngine",
                "QlikTools",
                "Telemetry",
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ServiceContextModule", package: "swift-service-context"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        // The `serve --config` file: YAML/JSON with a strict validator (file:line:column errors).
        .target(
            name: "ServerSettings",
            dependencies: [.product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "qlik-mcp",
            dependencies: [
                "ClusterState",
                "DemoEngine",
                "DemoWiring",
                "JSONCore",
                "MCPAuth",
                "MCPServerHost",
                "QlikEngine",
                "QlikTools",
                "RateLimiting",
                "RedisClient",
                "Resilience",
                "ServerSettings",
                "Telemetry",
                "ToolCache",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        // Benchmarks: the load generator and micro-benchmarks, outside the server binary.
        .executableTarget(
            name: "qlik-mcp-bench",
            dependencies: [
                "Resilience",
                "DemoEngine",
                "DemoWiring",
                "JSONCore",
                "MCPAuth",
                "MCPServerHost",
                "QlikEngine",
                "QlikTools",
                "RateLimiting",
                "Telemetry",
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // Helpers shared by the test targets (a throwaway PKI made with openssl).
        .target(
            name: "TestSupport",
            dependencies: ["Resilience", .product(name: "NIOSSL", package: "swift-nio-ssl")],
            path: "Tests/Support",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TelemetryTests",
            dependencies: [
                "Telemetry",
                "TestSupport",
                "OTLPProto",
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "QlikEngineTests",
            dependencies: [
                "QlikEngine",
                "TestSupport",
                "DemoEngine",
                "JSONCore",
                "QIXWire",
                "Telemetry",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "ServiceContextModule", package: "swift-service-context"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MCPAuthTests",
            dependencies: [
                "MCPAuth",
                "JSONCore",
                "QlikEngine",
                "QlikTools",
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MCPServerHostTests",
            dependencies: [
                "ClusterState",
                "MCPServerHost",
                "MCPAuth",
                "QlikEngine",
                "QlikTools",
                "Telemetry",
                "JSONCore",
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RedisClientTests",
            dependencies: [
                "ClusterState",
                "MCPAuth",
                "RedisClient",
                .product(name: "Logging", package: "swift-log"),
                "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ServerSettingsTests",
            dependencies: ["ServerSettings"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ResilienceTests",
            dependencies: ["Resilience", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RateLimitingTests",
            dependencies: ["RateLimiting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ToolCacheTests",
            dependencies: [
                "ToolCache",
                "RateLimiting",
                "Resilience",
                "ClusterState",
                "RedisClient",
                "QlikTools",
                "QlikEngine",
                "DemoEngine",
                "DemoWiring",
                "JSONCore",
                "TestSupport",
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "QlikToolsTests",
            dependencies: [
                "QlikTools",
                "ToolCache",
                "Resilience",
                "RateLimiting",
                "TestSupport",
                "DemoWiring",
                "MCPAuth",
                "MCPServerHost",
                "Telemetry",
                "QlikEngine",
                "DemoEngine",
                "JSONCore",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
