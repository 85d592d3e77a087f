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
