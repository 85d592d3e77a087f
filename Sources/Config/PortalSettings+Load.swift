import Foundation

/// Reading `PortalSettings` from an `Environment`: every key of the configuration contract.
extension PortalSettings {
    /// Example secrets from guides and templates; production refuses them.
    public static let knownWeakSecrets: Set<String> = [
        "secure_secret", "secure_password", "secure_password_here", "strong_password_here", "changeme", "secret",
        "admin", "password",
    ]

    /// Minimum length of `JWT_SECRET` and every other key in production, in bytes (HS256 wants a 256-bit key).
    public static let minimumJWTSecretBytes = 32

    /// Reads and validates every setting, stopping at the first problem.
    ///
    /// - Parameters:
    ///   - environment: the variables, usually `Environment.load()`.
    ///   - readConfigFile: returns the bytes of the `PORTAL_CONFIG` file, nil when unreadable (default: disk).
    /// - Throws: `ConfigError`, whose description is one line naming the variable and what it accepts.
    public static func load(
        from environment: Environment,
        readConfigFile: (String) -> Data? = { FileManager.default.contents(atPath: $0) }
    ) throws(ConfigError) -> PortalSettings {
        let env = environment
        var settings = PortalSettings()
        settings.portalEnvironment = try env.enumeration("PORTAL_ENV", default: PortalEnvironment.development)
        let production = settings.portalEnvironment == .production

        // Tokens and limits.
        settings.jwtSecret = try env.secret("JWT_SECRET")
        settings.jwtExpirationSeconds = try env.int("JWT_EXPIRATION", default: 3600, range: 1...31_536_000)
        settings.auth = try AuthSettings.load(from: env)
        settings.rateLimitRequestsPerMinute = try env.int(
            "RATE_LIMIT_REQUESTS_PER_MINUTE", default: 100, range: 1...100_000_000)
        settings.rateLimitBurst = try env.int("RATE_LIMIT_BURST", default: 20, range: 0...1_000_000)
        settings.rateLimitByIP = try env.bool("RATE_LIMIT_BY_IP", default: true)

        // TLS: both PEM paths are needed once the listener is on.
        settings.tlsEnabled = try env.bool("TLS_ENABLED", default: false)
        settings.tlsPort = try env.port("TLS_PORT", default: 8443, allowsZero: true)
        settings.tlsCertPath = try nonEmptyPath(env, "TLS_CERT_PATH")
        settings.tlsKeyPath = try nonEmptyPath(env, "TLS_KEY_PATH")
        settings.tlsClientCAPath = try nonEmptyPath(env, "TLS_CLIENT_CA_PATH")
        settings.tlsClientAuth = try env.enumeration("TLS_CLIENT_AUTH", default: TLSClientAuthSetting.none)
        settings.tlsRedirectHTTP = try env.bool("TLS_REDIRECT_HTTP", default: false)
        if settings.tlsEnabled {
            guard settings.tlsCertPath != nil else { throw .missing("TLS_CERT_PATH", expected: "a PEM file path") }
            guard settings.tlsKeyPath != nil else { throw .missing("TLS_KEY_PATH", expected: "a PEM file path") }
            if settings.tlsClientAuth != .none && settings.tlsClientCAPath == nil {
                throw .missing("TLS_CLIENT_CA_PATH", expected: "a PEM CA bundle when TLS_CLIENT_AUTH is not none")
            }
        }
        if settings.tlsRedirectHTTP && !settings.tlsEnabled {
            throw .invalidValue("TLS_REDIRECT_HTTP", expected: "false unless TLS_ENABLED=true", got: "true")
        }

        // Listeners and files.
        settings.gatewayHost = try env.host("GATEWAY_HOST", default: "0.0.0.0")
        settings.gatewayPort = try env.port("GATEWAY_PORT", default: 8009, allowsZero: true)
        settings.tlsHost = try env.host("TLS_HOST", default: settings.gatewayHost)
        settings.adminHost = try env.host("ADMIN_HOST", default: "127.0.0.1")
        settings.adminPort = try env.port("ADMIN_PORT", default: 9009, allowsZero: true)
        settings.dataLayerHost = try env.host("DATA_LAYER_HOST", default: "127.0.0.1")
        settings.dataLayerPort = try env.port("DATA_LAYER_PORT", default: 8001, allowsZero: true)
        settings.portalDataDirectory = try nonEmptyPath(env, "PORTAL_DATA_DIR") ?? "./data"
        settings.auditLogEnabled = try env.bool("AUDIT_LOG_ENABLED", default: true)
        settings.auditLogLevel = try env.enumeration("AUDIT_LOG_LEVEL", default: AuditLogLevel.info)
        settings.auditLogDestination =
            try nonEmptyPath(env, "AUDIT_LOG_DESTINATION") ?? settings.portalDataDirectory + "/audit.log"
        settings.audit = try AuditSettings.load(from: env)
        if settings.audit.failMode == nil {
            settings.audit.failMode = settings.portalEnvironment == .production ? .closed : .open
        }

        // Operational log and server limits.
        settings.logLevel = try env.enumeration("LOG_LEVEL", default: LogLevel.info)
        settings.logFormat = try env.enumeration("LOG_FORMAT", default: LogFormat.json)
        settings.trustedProxies = try env.cidrList("TRUSTED_PROXIES")
        settings.maxBodySizeBytes = try env.int("MAX_BODY_SIZE", default: 1_048_576, range: 0...1_073_741_824)
        settings.upstreamTimeoutSeconds = try env.durationSeconds(
            "UPSTREAM_TIMEOUT_SECONDS", default: 30, range: 0.001...3600)
        settings.loopThreads = try env.int("LOOP_THREADS", default: activeCoreCount, range: 1...256)
        settings.maxConnections = try env.int("MAX_CONNECTIONS", default: 10_000, range: 1...1_000_000)
        settings.maxConnectionsPerIP = try env.int(
            "MAX_CONNECTIONS_PER_IP", default: min(256, settings.maxConnections), range: 1...settings.maxConnections)
        settings.upstreamMaxIdle = try env.int("UPSTREAM_MAX_IDLE", default: 256, range: 0...65_536)
        settings.writeTimeoutSeconds = try env.durationSeconds("WRITE_TIMEOUT_SECONDS", default: 30, range: 0.1...3600)
        settings.shutdownGraceSeconds = try env.durationSeconds("SHUTDOWN_GRACE_SECONDS", default: 10, range: 0...3600)

        // Data-layer keys, Redis and PostgreSQL.
        settings.l01APIKeys = try env.secretList("L01_API_KEYS")
        settings.gatewayL01APIKey = try env.secret("GATEWAY_L01_API_KEY")
        settings.portalMasterKey = try masterKey("PORTAL_MASTER_KEY", from: env)
        settings.portalMasterKeyPrevious = try masterKey("PORTAL_MASTER_KEY_PREVIOUS", from: env)
        settings.redis = try RedisSettings.load(from: env)
        settings.rateLimitBackend = try RateLimitBackendSettings.load(from: env)
        settings.postgres = try PostgresSettings.load(from: env)

        settings.retention.purgeIntervalSeconds = try env.durationSeconds(
            "RETENTION_PURGE_INTERVAL_SECONDS", default: 3600, range: 1...604_800)
        // Routes: the file's when it has any, else the default table towards the data layer (a file may hold only
        // access or retention rules).
        settings.portalConfigPath = try nonEmptyPath(env, "PORTAL_CONFIG")
        if let path = settings.portalConfigPath {
            guard let data = readConfigFile(path) else {
                throw .invalidValue("PORTAL_CONFIG", expected: "a readable JSON file", got: path)
            }
            if let routes = try RouteTable(configJSON: data) {
                settings.routes = routes
                settings.usesDefaultRoutes = false
            } else {
                settings.routes = .defaultTable(
                    dataLayerHost: settings.dataLayerHost, dataLayerPort: settings.dataLayerPort)
            }
            settings.access = try AccessPolicy(json: data)
            settings.retention = try RetentionPolicy(
                json: data, purgeIntervalSeconds: settings.retention.purgeIntervalSeconds)
        } else {
            settings.routes = .defaultTable(
                dataLayerHost: settings.dataLayerHost, dataLayerPort: settings.dataLayerPort)
        }

        if production {
            try settings.refuseWeakSecrets()
            if settings.auditLogEnabled { try settings.audit.requireProductionKeys() }
            try settings.auth.requireProductionKeys()
            try settings.postgres?.requireProductionTLS()
        }
        return settings
    }

    /// Production refuses a missing (with HS256 signing), short or example `JWT_SECRET`, a missing credential key,
    /// keys and secrets under 32 bytes, and example Redis, PostgreSQL or API keys.
    private func refuseWeakSecrets() throws(ConfigError) {
        if jwtSecret == nil && auth.signingAlgorithm == .hs256 {
            throw ConfigError.weakSecret("JWT_SECRET", reason: "is required: set JWT_SECRET or JWT_SECRET_FILE")
        }
        if let redis {
            guard let password = redis.password else {
                let reason =
                    "is required with Redis: set REDIS_PASSWORD, REDIS_PASSWORD_FILE or a password in REDIS_URL"
                throw ConfigError.weakSecret("REDIS_PASSWORD", reason: reason)
            }
            try Self.refuseExample(password, "REDIS_PASSWORD")
        }
        if let password = postgres?.password { try Self.refuseExample(password, "POSTGRES_PASSWORD") }
        if let password = postgres?.gatewayPassword { try Self.refuseExample(password, "GATEWAY_POSTGRES_PASSWORD") }
        var keys: [(SecretValue, String)] = l01APIKeys.map { ($0, "L01_API_KEYS") }
        if let jwtSecret { keys.insert((jwtSecret, "JWT_SECRET"), at: 0) }
        if let key = gatewayL01APIKey { keys.append((key, "GATEWAY_L01_API_KEY")) }
        if let key = auth.credentialHMACKey { keys.append((key, "CREDENTIAL_HMAC_KEY")) }
        if let key = auth.l01IdentityKey { keys.append((key, "L01_IDENTITY_KEY")) }
        if let key = portalMasterKey { keys.append((key, "PORTAL_MASTER_KEY")) }
        if let key = portalMasterKeyPrevious { keys.append((key, "PORTAL_MASTER_KEY_PREVIOUS")) }
        for (key, variable) in keys {
            try Self.refuseExample(key, variable)
            guard key.byteCount >= Self.minimumJWTSecretBytes else {
                throw ConfigError.weakSecret(variable, reason: "must be at least \(Self.minimumJWTSecretBytes) bytes")
            }
        }
    }

    /// A master-key setting, `PORTAL_MASTER_KEY` or `PORTAL_MASTER_KEY_PREVIOUS` (or its `_FILE` twin): at least
    /// `minimumJWTSecretBytes` bytes; the value is never repeated. For the commands that read only the store's
    /// settings too. That the two differ is checked where both keys are known, which in development may be a
    /// generated file.
    /// - Returns: nil when neither the variable nor its twin is set.
    public static func masterKey(_ name: String, from env: Environment) throws(ConfigError) -> SecretValue? {
        guard let key = try env.secret(name) else { return nil }
        guard key.byteCount >= minimumJWTSecretBytes else {
            throw .invalidValue(name, expected: "at least \(minimumJWTSecretBytes) bytes", got: "<redacted>")
        }
        return key
    }

    private static func refuseExample(_ secret: SecretValue, _ variable: String) throws(ConfigError) {
        if knownWeakSecrets.contains(secret.text.lowercased()) {
            throw ConfigError.weakSecret(variable, reason: "is a known example value; generate a random secret")
        }
    }

    private static func nonEmptyPath(_ env: Environment, _ name: String) throws(ConfigError) -> String? {
        guard let text = try env.string(name) else { return nil }
        guard !text.isEmpty, !text.contains("\0") else {
            throw ConfigError.invalidValue(name, expected: "a non-empty file path", got: text)
        }
        return text
    }
}
