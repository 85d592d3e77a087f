import Foundation
import Testing

@testable import Config

@Suite("PortalSettings.load")
struct PortalSettingsTests {
    private static let strongSecret = "0123456789abcdef0123456789abcdef-strong"
    private static let keyA = "a1-0123456789abcdef0123456789abcdef"
    private static let keyB = "b2-0123456789abcdef0123456789abcdef"

    private func load(_ variables: [String: String], files: [String: String] = [:]) throws -> PortalSettings {
        let environment = Environment(variables: variables, readFile: { files[$0] })
        return try PortalSettings.load(from: environment, readConfigFile: { files[$0].map { Data($0.utf8) } })
    }

    @Test("defaults match the configuration contract")
    func defaults() throws {
        let settings = try load([:])
        #expect(settings.portalEnvironment == .development && settings.jwtSecret == nil)
        #expect(settings.jwtExpirationSeconds == 3600)
        #expect(settings.rateLimitRequestsPerMinute == 100 && settings.rateLimitBurst == 20 && settings.rateLimitByIP)
        #expect(!settings.tlsEnabled && settings.tlsPort == 8443)
        #expect(settings.auditLogEnabled && settings.auditLogLevel == .info)
        #expect(settings.auditLogDestination == "./data/audit.log")
        #expect(settings.redis == nil && settings.postgres == nil)
        #expect(settings.gatewayHost == "0.0.0.0" && settings.gatewayPort == 8009)
        #expect(settings.adminHost == "127.0.0.1" && settings.adminPort == 9009)
        #expect(settings.dataLayerHost == "127.0.0.1" && settings.dataLayerPort == 8001)
        #expect(settings.portalDataDirectory == "./data" && settings.portalConfigPath == nil)
        #expect(settings.trustedProxies.isEmpty && settings.logLevel == .info && settings.logFormat == .json)
        #expect(settings.maxBodySizeBytes == 1_048_576 && settings.upstreamTimeoutSeconds == 30)
        #expect(settings.l01APIKeys.isEmpty && settings.gatewayL01APIKey == nil)
        #expect(settings.loopThreads == ProcessInfo.processInfo.activeProcessorCount)
        #expect(settings.shutdownGraceSeconds == 10)
        #expect(settings.routes.match(path: "/api/v1/events")?.upstream.port == 8001)
    }

    @Test("reads every variable")
    func readsEverything() throws {
        let settings = try load(
            [
                "PORTAL_ENV": "production", "JWT_SECRET_FILE": "/s/jwt", "JWT_EXPIRATION": "600",
                "RATE_LIMIT_REQUESTS_PER_MINUTE": "1000", "RATE_LIMIT_BURST": "0", "RATE_LIMIT_BY_IP": "no",
                "TLS_ENABLED": "yes", "TLS_PORT": "9443", "TLS_CERT_PATH": "/c.pem", "TLS_KEY_PATH": "/k.pem",
                "AUDIT_LOG_ENABLED": "false", "AUDIT_LOG_LEVEL": "WARNING", "PORTAL_DATA_DIR": "/var/lib/portal",
                "REDIS_HOST": "redis", "REDIS_PORT": "6380", "REDIS_PASSWORD_FILE": "/s/redis",
                "DATABASE_URL": "postgres://u:p@db/portal?sslmode=verify-full", "GATEWAY_HOST": "::",
                "GATEWAY_PORT": "0",
                "ADMIN_PORT": "9100", "DATA_LAYER_HOST": "10.0.0.3", "DATA_LAYER_PORT": "7001",
                "TRUSTED_PROXIES": "10.0.0.0/8", "LOG_LEVEL": "debug", "LOG_FORMAT": "text",
                "MAX_BODY_SIZE": "2048", "UPSTREAM_TIMEOUT_SECONDS": "2.5", "L01_API_KEYS": Self.keyA + "," + Self.keyB,
                "GATEWAY_L01_API_KEY": Self.keyA, "LOOP_THREADS": "3", "SHUTDOWN_GRACE_SECONDS": "4",
                "CREDENTIAL_HMAC_KEY": Self.strongSecret + "-credentials",
            ],
            files: ["/s/jwt": Self.strongSecret + "\n", "/s/redis": "r3dis-pass\n"])
        #expect(settings.jwtSecret?.text == Self.strongSecret && settings.jwtExpirationSeconds == 600)
        #expect(settings.rateLimitRequestsPerMinute == 1000 && settings.rateLimitBurst == 0 && !settings.rateLimitByIP)
        #expect(settings.tlsEnabled && settings.tlsPort == 9443 && settings.tlsKeyPath == "/k.pem")
        #expect(!settings.auditLogEnabled && settings.auditLogLevel == .warning)
        #expect(settings.auditLogDestination == "/var/lib/portal/audit.log")
        #expect(
            settings.redis == RedisSettings(host: "redis", port: 6380, password: SecretValue("r3dis-pass")))
        #expect(settings.postgres?.url?.text == "postgres://u:p@db/portal?sslmode=verify-full")
        #expect(settings.gatewayHost == "::" && settings.gatewayPort == 0 && settings.adminPort == 9100)
        #expect(settings.trustedProxies.contains(ipText: "10.9.9.9"))
        #expect(settings.logLevel == .debug && settings.logFormat == .text)
        #expect(settings.maxBodySizeBytes == 2048 && settings.upstreamTimeoutSeconds == 2.5)
        #expect(settings.l01APIKeys.map(\.text) == [Self.keyA, Self.keyB])
        #expect(settings.gatewayL01APIKey?.text == Self.keyA)
        #expect(settings.loopThreads == 3 && settings.shutdownGraceSeconds == 4)
        #expect(settings.routes.match(path: "/api/v1/events")?.upstream == UpstreamURL(host: "10.0.0.3", port: 7001))
    }

    @Test(
        "production refuses a missing, short or example JWT secret",
        arguments: [
            nil, "short", "secure_secret", "changeme", "Secret", String(repeating: "x", count: 31),
        ] as [String?])
    func productionRefusesJWT(secret: String?) {
        var variables = ["PORTAL_ENV": "production"]
        variables["JWT_SECRET"] = secret
        #expect {
            try load(variables)
        } throws: { error in
            let description = String(describing: error)
            return description.hasPrefix("JWT_SECRET: ") && description.hasSuffix("(PORTAL_ENV=production)")
                && (secret.map { !description.contains($0) } ?? true)
        }
    }

    @Test(
        "production refuses example database and Redis passwords",
        arguments: [
            ("REDIS_PASSWORD", ["REDIS_HOST": "r"]), ("POSTGRES_PASSWORD", ["POSTGRES_HOST": "db"]),
        ])
    func productionRefusesPasswords(variable: String, extra: [String: String]) {
        for weak in ["secure_password", "secure_password_here", "strong_password_here", "changeme"] {
            var variables = extra.merging(
                ["PORTAL_ENV": "production", "JWT_SECRET": Self.strongSecret, "CREDENTIAL_HMAC_KEY": Self.keyA]) { $1 }
            variables[variable] = weak
            #expect {
                try load(variables)
            } throws: { error in
                String(describing: error).hasPrefix(variable + ": is a known example value")
            }
        }
    }

    @Test("development tolerates a missing or short secret")
    func developmentTolerates() throws {
        #expect(try load([:]).jwtSecret == nil)
        #expect(try load(["JWT_SECRET": "short"]).jwtSecret?.text == "short")
    }

    @Test(
        "a bad value stops loading with one line naming it",
        arguments: [
            ("RATE_LIMIT_BURST", "abc", #"RATE_LIMIT_BURST: expected an integer from 0 to 1000000, got "abc""#),
            ("GATEWAY_PORT", "70000", #"GATEWAY_PORT: expected a port from 0 to 65535, got "70000""#),
            ("REDIS_PORT", "0", #"REDIS_PORT: expected a port from 1 to 65535, got "0""#),
            ("PORTAL_ENV", "prod", #"PORTAL_ENV: expected one of development, production, got "prod""#),
            ("LOOP_THREADS", "0", #"LOOP_THREADS: expected an integer from 1 to 256, got "0""#),
            ("REDIS_URL", "http://x", "REDIS_URL: expected a redis:// or rediss:// URL"),
            ("DATABASE_URL", "mysql://u:pw@x", "DATABASE_URL: expected a postgres:// or postgresql:// URL"),
            ("TLS_ENABLED", "true", "TLS_CERT_PATH: is required: expected a PEM file path"),
            ("PORTAL_CONFIG", "/missing.json", #"PORTAL_CONFIG: expected a readable JSON file, got "/missing.json""#),
            ("PORTAL_DATA_DIR", "", #"PORTAL_DATA_DIR: expected a non-empty file path, got """#),
        ])
    func badValue(variable: String, value: String, message: String) {
        #expect {
            try load([variable: value])
        } throws: { error in
            String(describing: error) == message
        }
    }

    @Test(
        "connection caps, upstream pool and TLS client settings are read and checked together",
        arguments: [
            (["MAX_CONNECTIONS": "0"], "MAX_CONNECTIONS: expected an integer from 1 to 1000000"),
            (
                ["MAX_CONNECTIONS": "100", "MAX_CONNECTIONS_PER_IP": "101"],
                "MAX_CONNECTIONS_PER_IP: expected an integer from 1 to 100"
            ),
            (["UPSTREAM_MAX_IDLE": "-1"], "UPSTREAM_MAX_IDLE: expected an integer from 0 to 65536"),
            (["TLS_CLIENT_AUTH": "sometimes"], "TLS_CLIENT_AUTH: expected one of none, optional, required"),
            (["TLS_REDIRECT_HTTP": "true"], "TLS_REDIRECT_HTTP: expected false unless TLS_ENABLED=true"),
            (
                [
                    "TLS_ENABLED": "true", "TLS_CERT_PATH": "/c.pem", "TLS_KEY_PATH": "/k.pem",
                    "TLS_CLIENT_AUTH": "required",
                ],
                "TLS_CLIENT_CA_PATH: is required"
            ),
        ] as [([String: String], String)])
    func connectionAndTLSSettings(variables: [String: String], messagePrefix: String) {
        #expect {
            try load(variables)
        } throws: { error in
            String(describing: error).hasPrefix(messagePrefix)
        }
    }

    @Test("connection caps and TLS client settings have their documented defaults and are read")
    func connectionAndTLSDefaults() throws {
        let defaults = try load([:])
        #expect(defaults.maxConnections == 10_000 && defaults.maxConnectionsPerIP == 256)
        #expect(defaults.upstreamMaxIdle == 256 && defaults.tlsClientAuth == .none && !defaults.tlsRedirectHTTP)
        #expect(try load(["MAX_CONNECTIONS": "50"]).maxConnectionsPerIP == 50)
        let set = try load([
            "TLS_ENABLED": "true", "TLS_CERT_PATH": "/c.pem", "TLS_KEY_PATH": "/k.pem", "TLS_CLIENT_AUTH": "optional",
            "TLS_CLIENT_CA_PATH": "/ca.pem", "TLS_REDIRECT_HTTP": "yes", "GATEWAY_HOST": "127.0.0.1",
        ])
        #expect(set.tlsClientAuth == .optional && set.tlsClientCAPath == "/ca.pem" && set.tlsRedirectHTTP)
        #expect(set.tlsHost == "127.0.0.1")
    }

    @Test("the route table comes from PORTAL_CONFIG when set")
    func routesFromFile() throws {
        let json = #"{"routes": [{"prefix": "/bench", "upstream": "http://127.0.0.1:18080", "methods": ["GET"]}]}"#
        let settings = try load(["PORTAL_CONFIG": "/etc/portal.json"], files: ["/etc/portal.json": json])
        #expect(settings.portalConfigPath == "/etc/portal.json")
        #expect(settings.routes.match(path: "/bench/x")?.upstream.port == 18080)
        #expect(settings.routes.match(path: "/api/v1/events") == nil)
    }

    @Test("a PORTAL_CONFIG without routes (only retention or access rules) keeps the default table; [] is refused")
    func configWithoutRoutes() throws {
        let json = #"{"retention": {"events": {"*": "30d"}}}"#
        let settings = try load(
            ["PORTAL_CONFIG": "/etc/portal.json", "DATA_LAYER_PORT": "8101"], files: ["/etc/portal.json": json])
        #expect(settings.usesDefaultRoutes)
        for path in ["/api/v1/events", "/api/v1/audit", "/api/v1/subjects/s-1"] {
            #expect(settings.routes.match(path: path)?.upstream.port == 8101, "\(path)")
        }
        #expect(settings.retention.hasRules)
        let empty = #"{"routes": []}"#
        #expect(throws: ConfigError.self) {
            try load(["PORTAL_CONFIG": "/etc/portal.json"], files: ["/etc/portal.json": empty])
        }
        let withRoutes = try load(
            ["PORTAL_CONFIG": "/etc/portal.json"],
            files: [
                "/etc/portal.json":
                    #"{"routes": [{"prefix": "/a", "upstream": "http://127.0.0.1:9", "methods": ["GET"]}]}"#
            ])
        #expect(!withRoutes.usesDefaultRoutes)
    }

    @Test("printing the settings never shows a secret")
    func settingsRedacted() throws {
        let settings = try load([
            "JWT_SECRET": "hunter2-hunter2", "L01_API_KEYS": "k-hunter3", "REDIS_URL": "redis://:hunter4@r:6379",
        ])
        var dumped = ""
        dump(settings, to: &dumped)
        let printed = "\(settings)" + dumped
        #expect(!printed.contains("hunter"))
    }

    @Test("PORTAL_MASTER_KEY: read from its _FILE twin, refused when short or an example, never echoed")
    func masterKey() throws {
        let fromFile = try load(["PORTAL_MASTER_KEY_FILE": "/s/master"], files: ["/s/master": Self.strongSecret + "\n"])
        #expect(fromFile.portalMasterKey?.text == Self.strongSecret)
        #expect(try load([:]).portalMasterKey == nil)
        #expect { try load(["PORTAL_MASTER_KEY": "hunter2-short"]) } throws: { error in
            "\(error)".contains("PORTAL_MASTER_KEY") && !"\(error)".contains("hunter2")
        }
        let production = [
            "PORTAL_ENV": "production", "JWT_SECRET": Self.strongSecret, "CREDENTIAL_HMAC_KEY": Self.keyA,
            "AUDIT_LOG_ENABLED": "false", "PORTAL_MASTER_KEY": "strong_password_here-but-32-bytes-long",
        ]
        #expect(try load(production).portalMasterKey != nil)
        #expect { try load(production.merging(["PORTAL_MASTER_KEY": "changeme"]) { $1 }) } throws: { error in
            "\(error)".contains("PORTAL_MASTER_KEY")
        }
    }

    @Test("PORTAL_MASTER_KEY_PREVIOUS: unset by default, read from its _FILE twin, refused when short, never echoed")
    func previousMasterKey() throws {
        #expect(try load([:]).portalMasterKeyPrevious == nil)
        let fromFile = try load(
            ["PORTAL_MASTER_KEY_PREVIOUS_FILE": "/s/previous"], files: ["/s/previous": Self.strongSecret + "\n"])
        #expect(fromFile.portalMasterKeyPrevious?.text == Self.strongSecret)
        #expect { try load(["PORTAL_MASTER_KEY_PREVIOUS": "hunter2-short"]) } throws: { error in
            "\(error)".contains("PORTAL_MASTER_KEY_PREVIOUS") && !"\(error)".contains("hunter2")
        }
        #expect { try load(["PORTAL_MASTER_KEY_PREVIOUS_FILE": "/s/missing"]) } throws: { error in
            "\(error)".contains("PORTAL_MASTER_KEY_PREVIOUS")
        }
    }
}
