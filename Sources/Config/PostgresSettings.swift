/// The PostgreSQL store (`DATABASE_URL`, or `POSTGRES_HOST`, `_PORT`, `_DB`, `_USER`, `_PASSWORD(_FILE)`).
///
/// Absent from `PortalSettings` (nil) when neither `DATABASE_URL` nor `POSTGRES_HOST` is set: SQLite is used.
/// Read by `PostgresSettings.load(from:)`; every key is documented there and in README.md.
public struct PostgresSettings: Sendable, Hashable {
    /// `DATABASE_URL` as given (a libpq connection URI); it may hold a password, so it is a secret.
    public let url: SecretValue?
    /// `POSTGRES_HOST`, when `DATABASE_URL` is not used: a host name, an address, or a Unix socket directory.
    public let host: String?
    /// `POSTGRES_PORT`, default 5432.
    public let port: Int
    /// `POSTGRES_DB`, default `portal`.
    public let database: String
    /// `POSTGRES_USER`, default `portal`.
    public let user: String
    /// `POSTGRES_PASSWORD` or the contents of `POSTGRES_PASSWORD_FILE`; with `DATABASE_URL` it supplies the
    /// password the URL leaves out.
    public let password: SecretValue?
    /// The `sslmode` in force: `POSTGRES_SSLMODE`, or the URL's `sslmode`, else libpq's default `prefer`.
    public var sslMode: PostgresSSLMode = .prefer
    /// Which setting `sslMode` came from, for error messages: `POSTGRES_SSLMODE` or `DATABASE_URL`.
    public var sslModeSource = "POSTGRES_SSLMODE"
    /// `POSTGRES_SSLROOTCERT`: the CA bundle that `verify-ca` and `verify-full` check the server against.
    public var sslRootCertificatePath: String?
    /// `POSTGRES_POOL_SIZE`, default 4: connections the data layer opens at most (and threads that may wait).
    public var poolSize = 4
    /// `POSTGRES_TIMEOUT_SECONDS`, default 5: the longest a connect, a wait for a pooled connection or a
    /// statement may take before the request is answered 503.
    public var timeoutSeconds: Double = 5
    /// `GATEWAY_POSTGRES_USER`: the role the gateway's credential store logs in as, in place of the URL's or
    /// `POSTGRES_USER` (so that `portal serve` runs its data layer as `l01_service` and its gateway as
    /// `l09_service`); nil: the same role as the data layer.
    public var gatewayUser: String?
    /// `GATEWAY_POSTGRES_PASSWORD` or the contents of `GATEWAY_POSTGRES_PASSWORD_FILE`: that role's password.
    public var gatewayPassword: SecretValue?

    /// Settings from their parts; the others keep their defaults.
    public init(
        url: SecretValue?, host: String?, port: Int = 5432, database: String = "portal", user: String = "portal",
        password: SecretValue?
    ) {
        self.url = url
        self.host = host
        self.port = port
        self.database = database
        self.user = user
        self.password = password
    }

    /// Reads the PostgreSQL settings; nil when neither `DATABASE_URL` nor `POSTGRES_HOST` is set.
    /// - Throws: `ConfigError` naming the variable; the URL itself is never repeated.
    public static func load(from env: Environment) throws(ConfigError) -> PostgresSettings? {
        let url = try env.secret("DATABASE_URL")
        if let url, !(url.text.hasPrefix("postgres://") || url.text.hasPrefix("postgresql://")) {
            let expected = "a postgres:// or postgresql:// URL"
            throw ConfigError.invalidValue("DATABASE_URL", expected: expected, got: url.text)
        }
        var host = try env.string("POSTGRES_HOST")
        if let text = host, !text.hasPrefix("/") {
            host = try env.host("POSTGRES_HOST", default: "")
        } else if let text = host, text.contains("\0") {
            throw ConfigError.invalidValue(
                "POSTGRES_HOST", expected: "a host, an address or a socket directory", got: text)
        }
        let port = try env.port("POSTGRES_PORT", default: 5432)
        let database = try env.string("POSTGRES_DB", default: "portal") ?? "portal"
        let user = try env.string("POSTGRES_USER", default: "portal") ?? "portal"
        let password = try env.secret("POSTGRES_PASSWORD")
        var settings = PostgresSettings(
            url: url, host: host, port: port, database: database, user: user, password: password)
        settings.poolSize = try env.int("POSTGRES_POOL_SIZE", default: 4, range: 1...256)
        settings.timeoutSeconds = try env.durationSeconds("POSTGRES_TIMEOUT_SECONDS", default: 5, range: 0.1...300)
        settings.gatewayUser = try env.string("GATEWAY_POSTGRES_USER")
        if let role = settings.gatewayUser, role.isEmpty || role.contains("\0") {
            throw ConfigError.invalidValue("GATEWAY_POSTGRES_USER", expected: "a role name", got: role)
        }
        settings.gatewayPassword = try env.secret("GATEWAY_POSTGRES_PASSWORD")
        settings.sslRootCertificatePath = try env.string("POSTGRES_SSLROOTCERT")
        if let path = settings.sslRootCertificatePath, path.isEmpty || path.contains("\0") {
            throw ConfigError.invalidValue("POSTGRES_SSLROOTCERT", expected: "a PEM file path", got: path)
        }
        let explicit: PostgresSSLMode? =
            try env.string("POSTGRES_SSLMODE") == nil
            ? nil : try env.enumeration("POSTGRES_SSLMODE", default: PostgresSSLMode.prefer)
        let fromURL = try url.flatMap { url throws(ConfigError) in try sslMode(inURL: url.text) }
        if let explicit, let fromURL, explicit != fromURL {
            throw ConfigError.invalidValue(
                "POSTGRES_SSLMODE", expected: "the same sslmode as DATABASE_URL's (\(fromURL.rawValue)), or unset",
                got: explicit.rawValue)
        }
        settings.sslMode = explicit ?? fromURL ?? .prefer
        settings.sslModeSource = explicit == nil && fromURL != nil ? "DATABASE_URL" : "POSTGRES_SSLMODE"
        guard url != nil || host != nil else { return nil }
        return settings
    }

    /// With `PORTAL_ENV=production` the connection must be encrypted: `sslmode` require, verify-ca or verify-full.
    /// - Throws: `ConfigError` naming the setting the mode came from.
    public func requireProductionTLS() throws(ConfigError) {
        guard sslMode.alwaysEncrypts else {
            // The URL is a secret and never quoted, so its mode is named in the expectation instead.
            let current = sslModeSource == "DATABASE_URL" ? " (it is \(sslMode.rawValue))" : ""
            let expected = "sslmode require, verify-ca or verify-full with PORTAL_ENV=production\(current)"
            throw ConfigError.invalidValue(sslModeSource, expected: expected, got: sslMode.rawValue)
        }
    }

    /// The `sslmode` in a URL's query, if any.
    private static func sslMode(inURL url: String) throws(ConfigError) -> PostgresSSLMode? {
        guard let query = url.split(separator: "?", maxSplits: 1).dropFirst().first else { return nil }
        for pair in query.split(separator: "&") where pair.hasPrefix("sslmode=") {
            let value = pair.dropFirst("sslmode=".count)
            guard let mode = PostgresSSLMode(rawValue: String(value)) else {
                let accepted = PostgresSSLMode.allCases.map(\.rawValue).joined(separator: ", ")
                throw ConfigError.invalidValue("DATABASE_URL", expected: "sslmode one of \(accepted)", got: url)
            }
            return mode
        }
        return nil
    }
}

/// libpq's `sslmode`: how hard the client insists on TLS and on checking the server's certificate.
public enum PostgresSSLMode: String, Sendable, CaseIterable {
    case disable
    case allow
    case prefer
    case require
    case verifyCA = "verify-ca"
    case verifyFull = "verify-full"

    /// Whether a connection in this mode is always encrypted (the modes production accepts).
    public var alwaysEncrypts: Bool { self == .require || self == .verifyCA || self == .verifyFull }
}
