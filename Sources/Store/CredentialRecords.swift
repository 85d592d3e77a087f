/// A person who logs in with a password (`portal user add`).
public struct UserRecord: Sendable, Equatable {
    /// 1 to 64 of `a-z A-Z 0-9 . _ @ -`; unique.
    public var username: String
    /// The argon2id PHC string; never the password.
    public var passwordHash: String
    public var roles: [String]
    /// Scopes held besides those the roles grant.
    public var scopes: [String]
    /// A disabled user cannot log in, and the gateway refuses the user's tokens already issued.
    public var disabled: Bool
    /// Whether the password failed the password policy when it was set (allowed in development only).
    public var weakPassword: Bool
    /// Unix seconds.
    public var createdAt: Int64
    /// Unix seconds of the last change (password, disabled): the gateway refuses the user's tokens and refresh
    /// families issued before it, so every store must set it on those changes.
    public var updatedAt: Int64

    public init(
        username: String, passwordHash: String, roles: [String], scopes: [String] = [], disabled: Bool = false,
        weakPassword: Bool = false, createdAt: Int64, updatedAt: Int64? = nil
    ) {
        self.username = username
        self.passwordHash = passwordHash
        self.roles = roles
        self.scopes = scopes
        self.disabled = disabled
        self.weakPassword = weakPassword
        self.createdAt = createdAt
        self.updatedAt = updatedAt ?? createdAt
    }

    /// Whether `name` can be a user's name: 1 to 64 of `A-Z a-z 0-9 . _ @ -`, as `portal user add` requires.
    public static func isValidUsername(_ name: some StringProtocol) -> Bool {
        (1...64).contains(name.utf8.count)
            && name.utf8.allSatisfy { b in
                (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                    || b == UInt8(ascii: ".") || b == UInt8(ascii: "_") || b == UInt8(ascii: "@")
                    || b == UInt8(ascii: "-")
            }
    }
}

/// An API key of a service (`portal key create`), kept only as a keyed hash of its secret.
public struct APIKeyRecord: Sendable, Equatable {
    /// The public id, `spk_` and 16 hex digits; unique.
    public var id: String
    /// The consumer the key stands for (a service account such as `l03`); several keys may share it.
    public var name: String
    /// Hex HMAC-SHA256 of the secret part under the credential key.
    public var secretHash: String
    public var roles: [String]
    public var scopes: [String]
    /// Unix seconds.
    public var createdAt: Int64
    /// Unix seconds after which the key no longer works; nil: no expiry.
    public var expiresAt: Int64?
    /// Unix seconds when it was revoked; nil while not revoked.
    public var revokedAt: Int64?
    /// After a rotation: Unix seconds until which the old key still works.
    public var graceUntil: Int64?
    /// After a rotation: the id of the key that replaced this one.
    public var replacedBy: String?

    public init(
        id: String, name: String, secretHash: String, roles: [String], scopes: [String], createdAt: Int64,
        expiresAt: Int64? = nil, revokedAt: Int64? = nil, graceUntil: Int64? = nil, replacedBy: String? = nil
    ) {
        self.id = id
        self.name = name
        self.secretHash = secretHash
        self.roles = roles
        self.scopes = scopes
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
        self.graceUntil = graceUntil
        self.replacedBy = replacedBy
    }

    /// Whether the key authenticates at `now` (Unix seconds): not revoked, not expired, not past its grace.
    public func isUsable(at now: Int64) -> Bool {
        revokedAt == nil && (expiresAt.map { now < $0 } ?? true) && (graceUntil.map { now < $0 } ?? true)
    }
}

/// One refresh token of a login's family; rotated on every use.
public struct RefreshTokenRecord: Sendable, Equatable {
    /// Where a token stands.
    public enum Status: String, Sendable {
        /// May be redeemed once.
        case active
        /// Redeemed; presenting it again is a replay and revokes the family.
        case spent
        /// Its family was revoked (replay, logout, `POST /auth/revoke`).
        case revoked
    }

    /// Hex HMAC-SHA256 of the token under the credential key; unique.
    public var tokenHash: String
    /// Every token rotated out of one login shares this id.
    public var familyID: String
    public var subject: String
    public var roles: [String]
    public var scopes: [String]
    /// Unix seconds.
    public var issuedAt: Int64
    /// Unix seconds; the family's end, which rotation does not extend.
    public var expiresAt: Int64
    /// The `jti` of the access token issued with this refresh token, revoked with the family.
    public var accessTokenID: String
    /// That access token's `exp`, Unix seconds.
    public var accessExpiresAt: Int64
    public var status: Status

    public init(
        tokenHash: String, familyID: String, subject: String, roles: [String], scopes: [String], issuedAt: Int64,
        expiresAt: Int64, accessTokenID: String, accessExpiresAt: Int64, status: Status = .active
    ) {
        self.tokenHash = tokenHash
        self.familyID = familyID
        self.subject = subject
        self.roles = roles
        self.scopes = scopes
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.accessTokenID = accessTokenID
        self.accessExpiresAt = accessExpiresAt
        self.status = status
    }
}

/// An access token's `jti` revoked before its `exp`.
public struct RevokedToken: Sendable, Equatable, Hashable {
    public var tokenID: String
    /// The token's own `exp`, Unix seconds: after it the entry can go.
    public var expiresAt: Int64
    /// Unix seconds.
    public var revokedAt: Int64
    /// A short constant: `logout`, `refresh_replay`, `admin`.
    public var reason: String

    public init(tokenID: String, expiresAt: Int64, revokedAt: Int64, reason: String) {
        self.tokenID = tokenID
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
        self.reason = reason
    }
}

/// What redeeming a refresh token came to.
public enum RefreshRedemption: Sendable, Equatable {
    /// It was active: now spent, and the replacement (same family) stored. Carries the spent record.
    case rotated(RefreshTokenRecord)
    /// It was already spent: someone replayed it. The whole family is now revoked, and with it the access
    /// tokens issued in it, which are returned (already stored as revoked).
    case replayed(RefreshTokenRecord, revokedAccessTokens: [RevokedToken])
    /// Its family had been revoked before.
    case revoked
    /// Past the family's end.
    case expired
    /// No such token.
    case unknown
}

/// What a store must do to redeem a refresh token, decided from the stored record alone, so that every store
/// applies the same rules and only carries out the writes.
enum RefreshRedemptionStep: Equatable {
    /// Nothing to write: answer this.
    case answer(RefreshRedemption)
    /// A spent token came back: whoever holds the family now cannot be told from a thief. Revoke the family and
    /// answer `.replayed`.
    case revokeFamily
    /// Mark the token spent and store `successor` (same family, subject, grants and end), then answer `.rotated`.
    case rotate(successor: RefreshTokenRecord)
}

extension RefreshTokenRecord {
    /// The step that redeeming this token at `now` takes, with `replacement` as the new token's hash and
    /// access token; everything else the successor inherits.
    func redemptionStep(replacement: RefreshTokenRecord, at now: Int64) -> RefreshRedemptionStep {
        switch status {
        case .revoked: return .answer(.revoked)
        case .spent: return .revokeFamily
        case .active:
            guard now < expiresAt else { return .answer(.expired) }
            var next = replacement
            next.familyID = familyID
            next.subject = subject
            next.roles = roles
            next.scopes = scopes
            next.expiresAt = expiresAt
            next.status = .active
            return .rotate(successor: next)
        }
    }
}

/// What one `CredentialStore.purgeExpired(at:leewaySeconds:)` deleted.
public struct PurgedCredentials: Sendable, Equatable {
    /// Refresh tokens of families that ended, none of whose access tokens is still accepted.
    public var refreshTokens: Int
    /// Revocations of access tokens past `exp` plus the leeway.
    public var revocations: Int

    public init(refreshTokens: Int, revocations: Int) {
        self.refreshTokens = refreshTokens
        self.revocations = revocations
    }
}
