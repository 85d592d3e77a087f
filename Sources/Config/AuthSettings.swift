/// Settings of authentication: which keys verify tokens, what the product issues, and how guessing is stopped.
///
/// Read by `AuthSettings.load(from:production:)`, which documents every variable; README.md lists them too.
public struct AuthSettings: Sendable {
    /// `JWT_SIGNING_ALGORITHM`: how tokens the product issues are signed.
    public enum SigningAlgorithm: String, Sendable, CaseIterable {
        /// HMAC-SHA256 under `JWT_SECRET` (the default).
        case hs256 = "HS256"
        /// ECDSA P-256 under the PEM key in `JWT_SIGNING_KEY_FILE`.
        case es256 = "ES256"
    }

    /// `JWKS_FILE`: a JWKS document whose keys verify tokens; nil when unset.
    public var jwksFile: String?
    /// `JWKS_URL`: an `http://` or `https://` URL serving a JWKS document, fetched off the event loops.
    public var jwksURL: String?
    /// `JWKS_CA_PATH`: PEM CA bundle that an `https` `JWKS_URL` must chain to; nil: the system's trust store.
    public var jwksCAPath: String?
    /// `JWKS_REFRESH_SECONDS`, default 300: how often `JWKS_URL` is fetched again.
    public var jwksRefreshSeconds: Int = 300
    /// `JWKS_MIN_REFRESH_SECONDS`, default 30: the least time between two fetches, also when a token names an
    /// unknown `kid`, so that forged `kid`s cannot make the gateway hammer the key server.
    public var jwksMinRefreshSeconds: Int = 30
    /// `JWKS_TIMEOUT_SECONDS`, default 5: the whole fetch (connect, TLS, request, answer).
    public var jwksTimeoutSeconds: Double = 5
    /// `JWT_ISSUER`: when set, tokens must carry this `iss`; tokens the product issues carry it (default
    /// `story-portal`).
    public var jwtIssuer: String?
    /// `JWT_AUDIENCE`: when set, tokens must carry this `aud`; tokens the product issues carry it (default
    /// `story-portal`).
    public var jwtAudience: String?
    /// `JWT_LEEWAY`, default 60: clock skew in seconds allowed on `exp`, `nbf` and `iat` (0 to 3600).
    public var jwtLeewaySeconds: Int = 60
    /// `JWT_SIGNING_ALGORITHM`, default `HS256`.
    public var signingAlgorithm: SigningAlgorithm = .hs256
    /// `JWT_SIGNING_KEY_FILE`: PEM P-256 private key; required with `ES256`.
    public var signingKeyFile: String?
    /// `REFRESH_TOKEN_EXPIRATION`, default 1209600 (14 days): how long a refresh-token family lasts.
    public var refreshTokenExpirationSeconds: Int = 1_209_600
    /// `CREDENTIAL_HMAC_KEY(_FILE)`: the server key under which API keys and refresh tokens are stored as keyed
    /// hashes, at least 32 bytes. nil only in development, where a key generated into
    /// `$PORTAL_DATA_DIR/credential_hmac_key` is used.
    public var credentialHMACKey: SecretValue?
    /// `CREDENTIAL_CACHE_REFRESH_SECONDS`, default 1: how often API keys and revocations are re-read from the
    /// store into memory (changes made by this process apply at once).
    public var credentialCacheRefreshSeconds: Double = 1
    /// `CREDENTIAL_PURGE_INTERVAL_SECONDS`, default 3600 (60 to 604800): how often the gateway deletes refresh
    /// tokens and revocations that can no longer matter from the credential store.
    public var credentialPurgeIntervalSeconds: Int = 3600
    /// `PASSWORD_HASH_THREADS`, default 2 (1–64): password checks (argon2id) that run at once, on threads of their
    /// own, apart from the store workers.
    public var passwordHashThreads: Int = 2
    /// `PASSWORD_HASH_QUEUE`, default 8 (1–10000): password checks that may wait or run at once for addresses
    /// without a recent failure (as many again for those with one); past it 503 at once.
    public var passwordHashQueue: Int = 8
    /// `PASSWORD_HASH_PER_ADDRESS`, default 1 (1–100): password checks one client address (IPv6: its /64) may
    /// have waiting or running; past it 429 at once.
    public var passwordHashPerAddress: Int = 1
    /// `API_KEY_ROTATION_GRACE_SECONDS`, default 86400: how long a rotated API key keeps working.
    public var apiKeyRotationGraceSeconds: Int = 86_400
    /// `BRUTE_FORCE_MAX_FAILURES`, default 10: failed authentications from one address, or against one
    /// account, within the window that ban the address.
    public var bruteForceMaxFailures: Int = 10
    /// `BRUTE_FORCE_WINDOW_SECONDS`, default 300.
    public var bruteForceWindowSeconds: Int = 300
    /// `BRUTE_FORCE_BAN_SECONDS`, default 900: the first ban's length; each repeat within a day doubles it.
    public var bruteForceBanSeconds: Int = 900
    /// `BRUTE_FORCE_MAX_BAN_SECONDS`, default 86400: the longest ban.
    public var bruteForceMaxBanSeconds: Int = 86_400
    /// `L01_IDENTITY_KEY(_FILE)`: the key under which the gateway signs the caller's identity for the data layer,
    /// and the data layer checks it; at least 32 bytes. `portal serve` without it shares a fresh key per process.
    public var l01IdentityKey: SecretValue?

    /// Every default.
    public init() {}

    /// The least length of every key and secret in production, in bytes.
    public static let minimumSecretBytes = 32
}
