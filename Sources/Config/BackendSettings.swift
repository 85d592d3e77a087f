/// Shared limiter state in Redis (`REDIS_URL`, or `REDIS_HOST`/`REDIS_PORT`/`REDIS_PASSWORD(_FILE)`).
///
/// Absent from `PortalSettings` (nil) when neither `REDIS_URL` nor `REDIS_HOST` is set: limits stay in memory.
public struct RedisSettings: Sendable, Hashable {
    /// `REDIS_URL` as given (`redis://[:password@]host:port[/db]`); it may hold a password, so it is a secret.
    public let url: SecretValue?
    /// `REDIS_HOST`, when `REDIS_URL` is not used.
    public let host: String?
    /// `REDIS_PORT`, default 6379.
    public let port: Int
    /// `REDIS_PASSWORD` or the contents of `REDIS_PASSWORD_FILE`.
    public let password: SecretValue?

    /// Settings from their parts.
    public init(url: SecretValue?, host: String?, port: Int = 6379, password: SecretValue?) {
        self.url = url
        self.host = host
        self.port = port
        self.password = password
    }
}

/// The PostgreSQL store (`DATABASE_URL`, or `POSTGRES_HOST`, `_PORT`, `_DB`, `_USER`, `_PASSWORD(_FILE)`).
///
/// Absent from `PortalSettings` (nil) when neither `DATABASE_URL` nor `POSTGRES_HOST` is set: SQLite is used.
public struct PostgresSettings: Sendable, Hashable {
    /// `DATABASE_URL` as given (a libpq connection URI); it may hold a password, so it is a secret.
    public let url: SecretValue?
    /// `POSTGRES_HOST`, when `DATABASE_URL` is not used.
    public let host: String?
    /// `POSTGRES_PORT`, default 5432.
    public let port: Int
    /// `POSTGRES_DB`, default `portal`.
    public let database: String
    /// `POSTGRES_USER`, default `portal`.
    public let user: String
    /// `POSTGRES_PASSWORD` or the contents of `POSTGRES_PASSWORD_FILE`.
    public let password: SecretValue?

    /// Settings from their parts.
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
}
