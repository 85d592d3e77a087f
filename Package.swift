// swift-tools-version: 6.0
// Story Portal: the security-hardened gateway (L09) and data layer (L01).
import PackageDescription

let package = Package(
    name: "StoryPortal",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "portal", targets: ["portal"])
    ],
    targets: [
        // C libraries from Debian's -dev packages.
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CEpoll"),
        .systemLibrary(name: "CArgon2", pkgConfig: "libargon2", providers: [.apt(["libargon2-dev"])]),

        // Shared vocabulary: clock, bytes, strict JSON, base64url.
        .target(name: "PortalCore"),
        // HTTP/1.1 codec over bytes; knows nothing of sockets.
        .target(name: "HTTPCodec", dependencies: ["PortalCore"]),
        // epoll event loops, sockets, HTTP server and upstream client pool.
        .target(name: "Net", dependencies: ["PortalCore", "HTTPCodec", "CEpoll", "COpenSSL"]),
        // Thin Swift over OpenSSL EVP.
        .target(name: "Crypto", dependencies: ["PortalCore", "COpenSSL", "CArgon2"]),
        // JWT/JWS, keys, scopes.
        .target(name: "Auth", dependencies: ["PortalCore", "Crypto"]),
        // RESP (the Redis protocol) over bytes; knows nothing of sockets.
        .target(name: "RESP"),
        // The Redis client: per-loop pipelined connections over Net, TLS, AUTH, reconnect.
        .target(name: "Redis", dependencies: ["PortalCore", "RESP", "Net"]),
        // Rate limiting, bans, failure counts and revoked token ids, in memory and in Redis.
        .target(name: "Limits", dependencies: ["PortalCore", "Net", "RESP", "Redis", "Crypto"]),
        // Events, audit records and credentials on SQLite or PostgreSQL.
        .target(name: "Store", dependencies: ["PortalCore", "Crypto", "CSQLite", "CLibPQ"]),
        // Audit records and sinks.
        .target(name: "Audit", dependencies: ["PortalCore", "Crypto", "CZlib"]),
        // Encrypted backups: the chunked AES-256-GCM file format, and snapshots of either store into it.
        .target(name: "Backup", dependencies: ["PortalCore", "Crypto", "Store"]),
        // Metrics registry, Prometheus text, structured logger.
        .target(name: "Telemetry", dependencies: ["PortalCore"]),
        // Settings from environment, .env and *_FILE.
        .target(name: "Config", dependencies: ["PortalCore"]),
        // L01: the data layer service.
        .target(
            name: "DataLayer",
            dependencies: ["PortalCore", "HTTPCodec", "Net", "Store", "Crypto", "Auth", "Telemetry", "Config", "Audit"]
        ),
        // L09: the gateway service.
        .target(
            name: "Gateway",
            dependencies: [
                "PortalCore", "HTTPCodec", "Net", "Crypto", "Auth", "Limits", "Audit", "Telemetry", "Config", "Store",
            ]
        ),
        // The command line, thin.
        .executableTarget(
            name: "portal",
            dependencies: [
                "PortalCore", "Config", "Gateway", "DataLayer", "Auth", "Telemetry", "Net", "Store", "Limits", "Redis",
                "Backup",
            ]
        ),

        .testTarget(name: "PortalCoreTests", dependencies: ["PortalCore"]),
        // Test support: the vectors' folder (Tests/Vectors or $PORTAL_VECTORS) and the framing corpus's cases.
        .target(name: "VectorTestSupport", path: "Tests/VectorTestSupport"),
        .testTarget(name: "HTTPCodecTests", dependencies: ["HTTPCodec", "PortalCore", "VectorTestSupport"]),
        .testTarget(
            name: "NetTests", dependencies: ["Net", "HTTPCodec", "PortalCore", "COpenSSL", "VectorTestSupport"]),
        .testTarget(name: "CryptoTests", dependencies: ["Crypto", "PortalCore", "VectorTestSupport"]),
        .testTarget(name: "AuthTests", dependencies: ["Auth", "Crypto", "PortalCore", "VectorTestSupport"]),
        .testTarget(
            name: "LimitsTests", dependencies: ["Limits", "PortalCore", "Net", "Redis", "RESP", "RedisTestSupport"]),
        .testTarget(name: "RESPTests", dependencies: ["RESP"]),
        .testTarget(name: "RedisTests", dependencies: ["Redis", "RESP", "Net", "PortalCore", "RedisTestSupport"]),
        // Spawns and stops real redis-server processes for the tests (not a test target: several share it).
        .target(name: "RedisTestSupport", dependencies: ["Net"], path: "Tests/RedisTestSupport"),
        // Test support: the Debian PostgreSQL cluster, throwaway clusters a test may stop, and psql.
        .target(name: "PostgresTestSupport", dependencies: ["Store"], path: "Tests/PostgresTestSupport"),
        .testTarget(name: "StoreTests", dependencies: ["Store", "Crypto", "PortalCore", "PostgresTestSupport"]),
        .testTarget(
            name: "BackupTests", dependencies: ["Backup", "Store", "Crypto", "PortalCore", "PostgresTestSupport"]),
        .testTarget(name: "AuditTests", dependencies: ["Audit", "Crypto", "PortalCore"]),
        .testTarget(name: "TelemetryTests", dependencies: ["Telemetry", "PortalCore"]),
        .testTarget(name: "ConfigTests", dependencies: ["Config", "PortalCore"]),
        .testTarget(
            name: "DataLayerTests",
            dependencies: [
                "DataLayer", "Store", "Net", "HTTPCodec", "PortalCore", "Audit", "Auth", "Crypto", "Config",
                "Telemetry", "PostgresTestSupport",
            ]),
        .testTarget(
            name: "GatewayTests",
            dependencies: [
                "Gateway", "DataLayer", "Store", "Net", "HTTPCodec", "Auth", "Crypto", "Limits", "Audit", "Telemetry",
                "Config", "PortalCore", "Redis", "RedisTestSupport",
            ]
        ),
        // Runs the built `portal` binary as an operator would: start-up errors, the README walk-through, shutdown;
        // Net serves the loopback upstreams those processes proxy to.
        .testTarget(
            name: "PortalCommandTests",
            dependencies: [
                "portal", "Net", "HTTPCodec", "Crypto", "PortalCore", "Store", "RedisTestSupport",
                "PostgresTestSupport",
            ]),

        // libFuzzer harnesses (scripts/fuzz.sh, docs/fuzzing.md); plain builds replay files given as arguments.
        .target(name: "FuzzSupport", path: "Fuzz/FuzzSupport"),
        .executableTarget(
            name: "FuzzRequestParser", dependencies: ["FuzzSupport", "HTTPCodec"], path: "Fuzz/FuzzRequestParser"),
        .executableTarget(
            name: "FuzzChunked", dependencies: ["FuzzSupport", "HTTPCodec"], path: "Fuzz/FuzzChunked"),
        .executableTarget(
            name: "FuzzRoutePath", dependencies: ["FuzzSupport", "Config"], path: "Fuzz/FuzzRoutePath"),
        .executableTarget(
            name: "FuzzRequestTarget", dependencies: ["FuzzSupport", "HTTPCodec"], path: "Fuzz/FuzzRequestTarget"),
        .executableTarget(
            name: "FuzzJWT", dependencies: ["FuzzSupport", "Auth", "Crypto", "PortalCore"], path: "Fuzz/FuzzJWT"),
        .executableTarget(
            name: "FuzzConfig", dependencies: ["FuzzSupport", "Config"], path: "Fuzz/FuzzConfig"),
        .executableTarget(name: "FuzzRESP", dependencies: ["FuzzSupport", "RESP"], path: "Fuzz/FuzzRESP"),
    ],
    swiftLanguageModes: [.v6]
)
