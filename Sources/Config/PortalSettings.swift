import Foundation

/// Every setting of Story Portal, validated. Defaults are those of the configuration contract in DESIGN.md.
///
/// Built by `PortalSettings.load(from:)`; the memberwise initializer exists for tests and embedding.
/// Secrets are `SecretValue`s, so printing the settings never shows them.
public struct PortalSettings: Sendable {
    /// `PORTAL_ENV`, default `development`; `production` refuses weak or missing secrets.
    public var portalEnvironment: PortalEnvironment = .development
    /// `JWT_SECRET(_FILE)`: the HS256 key; nil only in development (the product then makes an ephemeral one).
    public var jwtSecret: SecretValue?
    /// `JWT_EXPIRATION`, default 3600 seconds: lifetime of tokens the product issues.
    public var jwtExpirationSeconds: Int = 3600
    /// Token verification keys (`JWKS_*`), claims, issued tokens, credentials and brute-force protection.
    public var auth = AuthSettings()
    /// Roles, service accounts and client-certificate identities from `PORTAL_CONFIG` (defaults without it).
    public var access = AccessPolicy.defaultPolicy
    /// `RATE_LIMIT_REQUESTS_PER_MINUTE`, default 100: sustained rate per client.
    public var rateLimitRequestsPerMinute: Int = 100
    /// `RATE_LIMIT_BURST`, default 20: burst above the sustained rate.
    public var rateLimitBurst: Int = 20
    /// `RATE_LIMIT_BY_IP`, default true: key the limit by client address.
    public var rateLimitByIP: Bool = true
    /// `TLS_ENABLED`, default false: run the HTTPS listener.
    public var tlsEnabled: Bool = false
    /// `TLS_PORT`, default 8443 (0: any free port, for tests).
    public var tlsPort: Int = 8443
    /// `TLS_CERT_PATH`: PEM certificate chain; required when TLS is enabled.
    public var tlsCertPath: String?
    /// `TLS_KEY_PATH`: PEM private key; required when TLS is enabled.
    public var tlsKeyPath: String?
    /// `TLS_HOST`, default `GATEWAY_HOST`: the address the HTTPS listener binds.
    public var tlsHost: String = "0.0.0.0"
    /// `TLS_CLIENT_CA_PATH`: PEM CA bundle that signs client certificates; required unless client auth is `none`.
    public var tlsClientCAPath: String?
    /// `TLS_CLIENT_AUTH`, default `none`: `optional` or `required` asks clients for certificates (mTLS).
    public var tlsClientAuth: TLSClientAuthSetting = .none
    /// `TLS_REDIRECT_HTTP`, default false: the plain listener answers every request with a redirect to HTTPS.
    public var tlsRedirectHTTP: Bool = false
    /// `MAX_CONNECTIONS`, default 10000: open connections per listener; past it new ones are closed at once.
    public var maxConnections: Int = 10_000
    /// `MAX_CONNECTIONS_PER_IP`, default 256: open connections per client address per listener.
    public var maxConnectionsPerIP: Int = 256
    /// `UPSTREAM_MAX_IDLE`, default 256: idle keep-alive connections kept per upstream per event loop.
    public var upstreamMaxIdle: Int = 256
    /// `AUDIT_LOG_ENABLED`, default true.
    public var auditLogEnabled: Bool = true
    /// `AUDIT_LOG_LEVEL`, default `INFO`.
    public var auditLogLevel: AuditLogLevel = .info
    /// `AUDIT_LOG_DESTINATION`, default `$PORTAL_DATA_DIR/audit.log`: the JSON-lines audit file.
    public var auditLogDestination: String = "./data/audit.log"
    /// The audit chain key, checkpoint signing key and interval (`AUDIT_HMAC_KEY`, `AUDIT_SIGNING_KEY_FILE`, ...).
    public var audit = AuditSettings()
    /// Redis for shared limiter state; nil: in memory.
    public var redis: RedisSettings?
    /// What the limiter does while Redis cannot answer (`RATE_LIMIT_FAIL_MODE`, `RATE_LIMIT_INSTANCES`, circuit).
    public var rateLimitBackend = RateLimitBackendSettings()
    /// PostgreSQL store; nil: SQLite under `portalDataDirectory`.
    public var postgres: PostgresSettings?
    /// `GATEWAY_HOST`, default `0.0.0.0`.
    public var gatewayHost: String = "0.0.0.0"
    /// `GATEWAY_PORT`, default 8009 (0: any free port, for tests).
    public var gatewayPort: Int = 8009
    /// `ADMIN_HOST`, default `127.0.0.1`.
    public var adminHost: String = "127.0.0.1"
    /// `ADMIN_PORT`, default 9009 (0: any free port, for tests).
    public var adminPort: Int = 9009
    /// `DATA_LAYER_HOST`, default `127.0.0.1`.
    public var dataLayerHost: String = "127.0.0.1"
    /// `DATA_LAYER_PORT`, default 8001 (0: any free port, for tests).
    public var dataLayerPort: Int = 8001
    /// `PORTAL_DATA_DIR`, default `./data`: embedded store, audit file, keys.
    public var portalDataDirectory: String = "./data"
    /// `PORTAL_CONFIG`: path of the JSON file of routes, access rules and retention rules.
    public var portalConfigPath: String?
    /// Whether `routes` is `RouteTable.defaultTable` (no `PORTAL_CONFIG`, or one without `"routes"`).
    public var usesDefaultRoutes = true
    /// The routes, from `PORTAL_CONFIG` `"routes"` or `RouteTable.defaultTable`.
    public var routes: RouteTable = .defaultTable()
    /// Maximum ages of events by type (`PORTAL_CONFIG` `"retention"`) and the purge interval; keeps all without.
    public var retention = RetentionPolicy()
    /// `TRUSTED_PROXIES`, default empty: peers whose `X-Forwarded-For` is believed.
    public var trustedProxies = CIDRList()
    /// `LOG_LEVEL`, default `info`.
    public var logLevel: LogLevel = .info
    /// `LOG_FORMAT`, default `json`.
    public var logFormat: LogFormat = .json
    /// `MAX_BODY_SIZE`, default 1048576 bytes (1 MiB): larger request bodies get 413.
    public var maxBodySizeBytes: Int = 1_048_576
    /// `UPSTREAM_TIMEOUT_SECONDS`, default 30 seconds.
    public var upstreamTimeoutSeconds: Double = 30
    /// `WRITE_TIMEOUT_SECONDS`, default 30 seconds: a client that takes no byte of a ready answer for this long
    /// is disconnected.
    public var writeTimeoutSeconds: Double = 30
    /// `L01_API_KEYS(_FILE)`: comma-separated keys the data layer accepts; empty when unset.
    public var l01APIKeys: [SecretValue] = []
    /// `GATEWAY_L01_API_KEY(_FILE)`: the key the gateway presents to the data layer.
    public var gatewayL01APIKey: SecretValue?
    /// `PORTAL_MASTER_KEY(_FILE)`: at least 32 bytes; wraps the per-subject data keys that encrypt event payloads
    /// and metadata. Nil: production refuses to run a data layer; development generates `$PORTAL_DATA_DIR/master_key`.
    public var portalMasterKey: SecretValue?
    /// `PORTAL_MASTER_KEY_PREVIOUS(_FILE)`: during a master-key rotation, the key being rotated away from (at
    /// least 32 bytes, not the current key). It unwraps the data keys it wrapped; nothing new is wrapped by it.
    /// Nil (the default) outside a rotation.
    public var portalMasterKeyPrevious: SecretValue?
    /// `LOOP_THREADS`, default the number of active cores: event-loop threads.
    public var loopThreads: Int = PortalSettings.activeCoreCount
    /// `SHUTDOWN_GRACE_SECONDS`, default 10 seconds: how long in-flight requests may finish on shutdown.
    public var shutdownGraceSeconds: Double = 10

    /// Settings with every default.
    public init() {}

    /// The number of cores this process may run on, at least 1.
    public static var activeCoreCount: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }
}
