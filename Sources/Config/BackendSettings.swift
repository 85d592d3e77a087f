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
