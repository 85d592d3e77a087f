/// Users, API keys, refresh tokens and revoked token ids, behind which SQLite (`SQLiteCredentialStore`) or
/// PostgreSQL (`PostgresCredentialStore`, schema `mcp_documents`) sits.
///
/// Contract for every implementation:
/// - Nothing secret is stored in the clear: passwords as argon2id PHC strings, API-key secrets and refresh
///   tokens as hex HMAC-SHA256 under the server's credential key. The store never sees a plaintext credential.
/// - Times are Unix seconds (`Int64`); role and scope lists are arrays of tokens without spaces (SQLite keeps
///   them space-separated).
/// - Every method may block on disk or network: call it off the event loops. A method that returns has
///   committed durably.
/// - `redeemRefreshToken` and `rotateAPIKey` are atomic: two concurrent redemptions of one refresh token
///   cannot both succeed; the loser sees `.replayed`.
/// - Errors are `StoreError`; a duplicate key is `StoreError.conflict`.
///
/// Schema of the SQLite implementation (the PostgreSQL one keeps the same tables and columns, with `bigint` times and
/// `boolean` flags):
/// `users(username PK, password_hash, roles, scopes, disabled, weak_password, created_at, updated_at)`,
/// `api_keys(id PK, name, secret_hash, roles, scopes, created_at, expires_at?, revoked_at?, grace_until?,
/// replaced_by?)` with an index on `name`,
/// `refresh_tokens(token_hash PK, family_id, subject, roles, scopes, issued_at, expires_at, access_jti,
/// access_expires_at, status)` with an index on `family_id`,
/// `revoked_tokens(jti PK, expires_at, revoked_at, reason)`.
public protocol CredentialStore: Sendable {
    /// Adds a user. - Throws: `StoreError.conflict` when the name is taken.
    func createUser(_ user: UserRecord) throws
    /// The user with this exact name, or nil.
    func user(named username: String) throws -> UserRecord?
    /// Every user, by name.
    func users() throws -> [UserRecord]
    /// Replaces a user's password hash. - Returns: false when there is no such user.
    func updatePassword(username: String, passwordHash: String, weakPassword: Bool, at now: Int64) throws -> Bool
    /// Disables or enables a user. - Returns: false when there is no such user.
    func setUserDisabled(username: String, disabled: Bool, at now: Int64) throws -> Bool

    /// Adds an API key. - Throws: `StoreError.conflict` when the id exists.
    func insertAPIKey(_ key: APIKeyRecord) throws
    /// The key with this id, whatever its state, or nil.
    func apiKey(id: String) throws -> APIKeyRecord?
    /// Every key, by creation time.
    func apiKeys() throws -> [APIKeyRecord]
    /// Inserts `replacement` and lets key `id` work only until `graceUntil` (never longer than it already
    /// would), naming the replacement, in one transaction. - Returns: false when `id` is missing or unusable.
    func rotateAPIKey(id: String, replacement: APIKeyRecord, graceUntil: Int64, at now: Int64) throws -> Bool
    /// Revokes key `id`. - Returns: false when there is no such key or it was revoked already.
    func revokeAPIKey(id: String, at now: Int64) throws -> Bool

    /// Stores the first refresh token of a new family.
    func insertRefreshToken(_ token: RefreshTokenRecord) throws
    /// Redeems the token with `tokenHash`: when active and unexpired, marks it spent and stores `replacement`
    /// (its hash, access token id and times; family, subject, roles, scopes and expiry are copied from the
    /// redeemed token); when spent, revokes its family and the access tokens issued in it. One transaction.
    func redeemRefreshToken(tokenHash: String, replacement: RefreshTokenRecord, at now: Int64) throws
        -> RefreshRedemption
    /// Revokes the family of the token with `tokenHash` and its access tokens (logout, `POST /auth/revoke`).
    /// - Returns: the access tokens revoked; nil when the token is unknown.
    func revokeRefreshFamily(tokenHash: String, at now: Int64, reason: String) throws -> [RevokedToken]?

    /// Records a revoked access token (idempotent).
    func revokeToken(_ token: RevokedToken) throws
    /// Revoked tokens whose `exp` is after `now`: the set every gateway must refuse when asked with `now` minus its
    /// verifier's leeway (a token stays accepted that long past `exp`).
    func revokedTokens(expiringAfter now: Int64) throws -> [RevokedToken]
    /// Deletes the rows that can no longer matter, in one transaction.
    ///
    /// A verifier accepts a token until its `exp` plus the leeway (`JWT_LEEWAY`), so a revocation goes only once
    /// `exp + leewaySeconds <= now`: earlier, the token would become usable again. A refresh token goes once its
    /// family has ended (`expires_at <= now`) and no access token issued in the family is still accepted: until
    /// then a spent token replayed must still revoke the family and with it those access tokens.
    /// - Parameters:
    ///   - now: Unix seconds; PostgreSQL never takes it past the database's own clock.
    ///   - leewaySeconds: the verifier's leeway, 0 to 3600 seconds.
    /// - Returns: how many rows of each kind were deleted.
    func purgeExpired(at now: Int64, leewaySeconds: Int64) throws -> PurgedCredentials

    /// Throws unless the store answers now; for readiness probes.
    func ping() throws
}
