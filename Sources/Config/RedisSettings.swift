/// Shared limiter state in Redis: `REDIS_URL`, or `REDIS_HOST` with `REDIS_PORT`, `REDIS_USERNAME`,
/// `REDIS_PASSWORD(_FILE)`, `REDIS_DB` and `REDIS_TLS`; plus `REDIS_TLS_CA_PATH`, the timeouts and the key
/// prefix.
///
/// Absent from `PortalSettings` (nil) when neither `REDIS_URL` nor `REDIS_HOST` is set: limits stay in memory.
public struct RedisSettings: Sendable, Hashable {
    /// Host name or IP literal (from `REDIS_URL` or `REDIS_HOST`); with TLS the certificate must name it.
    public var host: String
    /// Port, default 6379.
    public var port: Int
    /// ACL user (`redis://user:pass@...` or `REDIS_USERNAME`); nil authenticates as the default user.
    public var username: String?
    /// The password from `REDIS_URL`, `REDIS_PASSWORD` or `REDIS_PASSWORD_FILE`; required in production.
    public var password: SecretValue?
    /// Database index (`/db` in the URL or `REDIS_DB`), default 0.
    public var database: Int
    /// TLS with certificate verification (`rediss://` or `REDIS_TLS=true`).
    public var tls: Bool
    /// `REDIS_TLS_CA_PATH`: PEM CAs to trust for the server's certificate; nil: the system's store.
    public var tlsCAPath: String?
    /// `REDIS_CONNECT_TIMEOUT_SECONDS`, default 2: connect, TLS handshake and AUTH together.
    public var connectTimeoutSeconds: Double
    /// `REDIS_COMMAND_TIMEOUT_SECONDS`, default 0.5: how long one decision may wait for Redis.
    public var commandTimeoutSeconds: Double
    /// `REDIS_KEY_PREFIX`, default `portal:`: prepended to every key, so deployments can share a server.
    public var keyPrefix: String

    /// Settings from their parts; defaults as documented above.
    public init(
        host: String, port: Int = 6379, username: String? = nil, password: SecretValue? = nil, database: Int = 0,
        tls: Bool = false, tlsCAPath: String? = nil, connectTimeoutSeconds: Double = 2,
        commandTimeoutSeconds: Double = 0.5, keyPrefix: String = "portal:"
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.tls = tls
        self.tlsCAPath = tlsCAPath
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.commandTimeoutSeconds = commandTimeoutSeconds
        self.keyPrefix = keyPrefix
    }

    /// Reads the Redis settings; nil when neither `REDIS_URL` nor `REDIS_HOST` is set.
    /// - Throws: `ConfigError` naming the variable; the URL and passwords are never quoted.
    public static func load(from env: Environment) throws(ConfigError) -> RedisSettings? {
        let url = try env.secret("REDIS_URL")
        let password = try env.secret("REDIS_PASSWORD")
        // The host form's variables are read (and so checked) whether or not they are used.
        let host: String? = try env.string("REDIS_HOST") == nil ? nil : try env.host("REDIS_HOST", default: "")
        let port = try env.port("REDIS_PORT", default: 6379)
        let username = try env.string("REDIS_USERNAME")
        if let username, username.isEmpty || !username.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) {
            throw ConfigError.invalidValue("REDIS_USERNAME", expected: "a user name without spaces", got: username)
        }
        let database = try env.int("REDIS_DB", default: 0, range: 0...9_999)
        let tls = try env.bool("REDIS_TLS", default: false)
        var settings: RedisSettings
        if let url {
            // One source of truth: parts set beside a URL would be silently ignored.
            for name in ["REDIS_HOST", "REDIS_PORT", "REDIS_USERNAME", "REDIS_DB", "REDIS_TLS"]
            where try env.string(name) != nil {
                throw ConfigError.invalidValue(name, expected: "unset when REDIS_URL is set", got: "set")
            }
            settings = try RedisURL.parse(url.text)
            if settings.password != nil, password != nil {
                throw ConfigError.conflictingSources("REDIS_URL's password", "REDIS_PASSWORD")
            }
        } else if let host {
            settings = RedisSettings(host: host, port: port, username: username, database: database, tls: tls)
        } else {
            return nil
        }
        if let password { settings.password = password }
        try loadOptions(env, into: &settings)
        return settings
    }

    private static func loadOptions(_ env: Environment, into settings: inout RedisSettings) throws(ConfigError) {
        if let path = try env.string("REDIS_TLS_CA_PATH") {
            guard !path.isEmpty, !path.contains("\0") else {
                throw ConfigError.invalidValue("REDIS_TLS_CA_PATH", expected: "a PEM file path", got: path)
            }
            guard settings.tls else {
                let expected = "set only with a rediss:// URL or REDIS_TLS=true"
                throw ConfigError.invalidValue("REDIS_TLS_CA_PATH", expected: expected, got: path)
            }
            settings.tlsCAPath = path
        }
        settings.connectTimeoutSeconds = try env.durationSeconds(
            "REDIS_CONNECT_TIMEOUT_SECONDS", default: 2, range: 0.01...60)
        settings.commandTimeoutSeconds = try env.durationSeconds(
            "REDIS_COMMAND_TIMEOUT_SECONDS", default: 0.5, range: 0.001...60)
        let prefix = try env.string("REDIS_KEY_PREFIX", default: "portal:") ?? "portal:"
        guard prefix.utf8.count <= 64, prefix.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw ConfigError.invalidValue(
                "REDIS_KEY_PREFIX", expected: "up to 64 printable ASCII characters without spaces", got: prefix)
        }
        settings.keyPrefix = prefix
    }
}
