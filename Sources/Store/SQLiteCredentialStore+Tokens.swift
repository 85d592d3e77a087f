extension SQLiteCredentialStore {
    static let refreshColumns =
        "token_hash, family_id, subject, roles, scopes, issued_at, expires_at, access_jti, access_expires_at, status"

    public func insertRefreshToken(_ token: RefreshTokenRecord) throws {
        try write { db in try Self.insert(token, db) }
    }

    private static func insert(_ token: RefreshTokenRecord, _ db: SQLiteConnection) throws {
        try db.query(
            "INSERT INTO refresh_tokens (\(refreshColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                .text(token.tokenHash), .text(token.familyID), .text(token.subject), joined(token.roles),
                joined(token.scopes), .integer(token.issuedAt), .integer(token.expiresAt), .text(token.accessTokenID),
                .integer(token.accessExpiresAt), .text(token.status.rawValue),
            ])
    }

    public func redeemRefreshToken(tokenHash: String, replacement: RefreshTokenRecord, at now: Int64) throws
        -> RefreshRedemption
    {
        try write { db in
            guard let token = try Self.refreshToken(tokenHash, db) else { return .unknown }
            switch token.redemptionStep(replacement: replacement, at: now) {
            case .answer(let answer):
                return answer
            case .revokeFamily:
                let revoked = try Self.revokeFamily(token.familyID, now: now, reason: "refresh_replay", db)
                return .replayed(token, revokedAccessTokens: revoked)
            case .rotate(let successor):
                try db.query(
                    "UPDATE refresh_tokens SET status = 'spent' WHERE token_hash = ?", [.text(tokenHash)])
                try Self.insert(successor, db)
                return .rotated(token)
            }
        }
    }

    public func revokeRefreshFamily(tokenHash: String, at now: Int64, reason: String) throws -> [RevokedToken]? {
        try write { db in
            guard let token = try Self.refreshToken(tokenHash, db) else { return nil }
            return try Self.revokeFamily(token.familyID, now: now, reason: reason, db)
        }
    }

    /// Marks every token of the family revoked and records its live access tokens as revoked.
    private static func revokeFamily(_ family: String, now: Int64, reason: String, _ db: SQLiteConnection) throws
        -> [RevokedToken]
    {
        var revoked: [RevokedToken] = []
        try db.query(
            "SELECT access_jti, access_expires_at FROM refresh_tokens WHERE family_id = ? AND access_expires_at > ?",
            [.text(family), .integer(now)]
        ) { row in
            if let jti = row.text(0) {
                revoked.append(RevokedToken(tokenID: jti, expiresAt: row.integer(1), revokedAt: now, reason: reason))
            }
        }
        try db.query("UPDATE refresh_tokens SET status = 'revoked' WHERE family_id = ?", [.text(family)])
        for token in revoked { try insertRevoked(token, db) }
        return revoked
    }

    private static func refreshToken(_ hash: String, _ db: SQLiteConnection) throws -> RefreshTokenRecord? {
        var found: RefreshTokenRecord?
        try db.query("SELECT \(refreshColumns) FROM refresh_tokens WHERE token_hash = ?", [.text(hash)]) { row in
            guard let hash = row.text(0), let family = row.text(1), let subject = row.text(2),
                let jti = row.text(7), let status = row.text(9).flatMap(RefreshTokenRecord.Status.init(rawValue:))
            else { throw StoreError.corruptRow }
            found = RefreshTokenRecord(
                tokenHash: hash, familyID: family, subject: subject, roles: split(row.text(3)),
                scopes: split(row.text(4)), issuedAt: row.integer(5), expiresAt: row.integer(6), accessTokenID: jti,
                accessExpiresAt: row.integer(8), status: status)
        }
        return found
    }

    public func revokeToken(_ token: RevokedToken) throws {
        try write { db in try Self.insertRevoked(token, db) }
    }

    private static func insertRevoked(_ token: RevokedToken, _ db: SQLiteConnection) throws {
        try db.query(
            "INSERT OR IGNORE INTO revoked_tokens (jti, expires_at, revoked_at, reason) VALUES (?, ?, ?, ?)",
            [.text(token.tokenID), .integer(token.expiresAt), .integer(token.revokedAt), .text(token.reason)])
    }

    public func revokedTokens(expiringAfter now: Int64) throws -> [RevokedToken] {
        try read { db in
            var all: [RevokedToken] = []
            try db.query(
                "SELECT jti, expires_at, revoked_at, reason FROM revoked_tokens WHERE expires_at > ?", [.integer(now)]
            ) { row in
                guard let jti = row.text(0) else { throw StoreError.corruptRow }
                all.append(
                    RevokedToken(
                        tokenID: jti, expiresAt: row.integer(1), revokedAt: row.integer(2), reason: row.text(3) ?? ""))
            }
            return all
        }
    }
}
