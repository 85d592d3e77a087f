extension PostgresCredentialStore {
    static let refreshColumns =
        "token_hash, family_id, subject, roles, scopes, issued_at, expires_at, access_jti, access_expires_at, status"

    private static let insertRefresh =
        "INSERT INTO mcp_documents.refresh_tokens (\(refreshColumns)) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"

    public func insertRefreshToken(_ token: RefreshTokenRecord) throws {
        _ = try run(Self.insertRefresh, Self.values(token))
    }

    private static func values(_ token: RefreshTokenRecord) -> [PostgresValue] {
        [
            .text(token.tokenHash), .text(token.familyID), .text(token.subject), joined(token.roles),
            joined(token.scopes), .integer(token.issuedAt), .integer(token.expiresAt), .text(token.accessTokenID),
            .integer(token.accessExpiresAt), .text(token.status.rawValue),
        ]
    }

    public func redeemRefreshToken(tokenHash: String, replacement: RefreshTokenRecord, at now: Int64) throws
        -> RefreshRedemption
    {
        try transaction { db in
            // The row lock makes a second redemption (another gateway) wait until this one commits; it then
            // reads the token spent and revokes the family, so at most one redemption ever rotates.
            guard let token = try Self.lockedRefreshToken(tokenHash, db) else { return .unknown }
            switch token.redemptionStep(replacement: replacement, at: now) {
            case .answer(let answer):
                return answer
            case .revokeFamily:
                let revoked = try Self.revokeFamily(token.familyID, now: now, reason: "refresh_replay", db)
                return .replayed(token, revokedAccessTokens: revoked)
            case .rotate(let successor):
                _ = try db.query(
                    "UPDATE mcp_documents.refresh_tokens SET status = 'spent' WHERE token_hash = $1",
                    [.text(tokenHash)])
                _ = try db.query(Self.insertRefresh, Self.values(successor))
                return .rotated(token)
            }
        }
    }

    public func revokeRefreshFamily(tokenHash: String, at now: Int64, reason: String) throws -> [RevokedToken]? {
        try transaction { db in
            guard let token = try Self.lockedRefreshToken(tokenHash, db) else { return nil }
            return try Self.revokeFamily(token.familyID, now: now, reason: reason, db)
        }
    }

    /// Marks every token of the family revoked and records its live access tokens as revoked.
    private static func revokeFamily(_ family: String, now: Int64, reason: String, _ db: Statements) throws
        -> [RevokedToken]
    {
        let rows = try db.query(
            "UPDATE mcp_documents.refresh_tokens SET status = 'revoked' WHERE family_id = $1 "
                + "RETURNING access_jti, access_expires_at, issued_at",
            [.text(family)])
        var revoked: [(issuedAt: Int64, token: RevokedToken)] = []
        for row in 0..<rows.count {
            guard let jti = rows.text(row, 0) else { throw StoreError.corruptRow }
            let expiresAt = try rows.integer(row, 1)
            guard expiresAt > now else { continue }
            let token = RevokedToken(tokenID: jti, expiresAt: expiresAt, revokedAt: now, reason: reason)
            revoked.append((try rows.integer(row, 2), token))
        }
        let ordered = revoked.sorted { $0.issuedAt < $1.issuedAt }.map(\.token)
        for token in ordered { try insertRevoked(token, db) }
        return ordered
    }

    /// The advisory lock of one family: (0x5350 "SP", a hash of the family id).
    private static let familyLock: Int64 = 0x5350

    /// The token with `hash`, its row locked, after the lock of its whole family: redemptions and revocations
    /// within one family then run one at a time, so two replays of different tokens of a family (each holding
    /// its own row while revoking the other's) cannot deadlock.
    private static func lockedRefreshToken(_ hash: String, _ db: Statements) throws -> RefreshTokenRecord? {
        // A token's family never changes, so the unlocked read names the right family.
        guard let peek = try refreshToken(hash, lock: false, db) else { return nil }
        _ = try db.query(
            "SELECT pg_advisory_xact_lock($1::int, hashtext($2))", [.integer(familyLock), .text(peek.familyID)])
        return try refreshToken(hash, lock: true, db)
    }

    private static func refreshToken(_ hash: String, lock: Bool, _ db: Statements) throws -> RefreshTokenRecord? {
        let select = "SELECT \(refreshColumns) FROM mcp_documents.refresh_tokens WHERE token_hash = $1"
        let rows = try db.query(lock ? select + " FOR UPDATE" : select, [.text(hash)])
        guard rows.count == 1 else { return nil }
        guard let hash = rows.text(0, 0), let family = rows.text(0, 1), let subject = rows.text(0, 2),
            let jti = rows.text(0, 7), let status = rows.text(0, 9).flatMap(RefreshTokenRecord.Status.init(rawValue:))
        else { throw StoreError.corruptRow }
        return RefreshTokenRecord(
            tokenHash: hash, familyID: family, subject: subject, roles: split(rows.text(0, 3)),
            scopes: split(rows.text(0, 4)), issuedAt: try rows.integer(0, 5), expiresAt: try rows.integer(0, 6),
            accessTokenID: jti, accessExpiresAt: try rows.integer(0, 8), status: status)
    }

    public func revokeToken(_ token: RevokedToken) throws {
        _ = try run(Self.insertRevokedSQL, Self.values(token))
    }

    private static let insertRevokedSQL =
        "INSERT INTO mcp_documents.revoked_tokens (jti, expires_at, revoked_at, reason) VALUES ($1, $2, $3, $4) "
        + "ON CONFLICT (jti) DO NOTHING"

    private static func values(_ token: RevokedToken) -> [PostgresValue] {
        [.text(token.tokenID), .integer(token.expiresAt), .integer(token.revokedAt), .text(token.reason)]
    }

    private static func insertRevoked(_ token: RevokedToken, _ db: Statements) throws {
        _ = try db.query(insertRevokedSQL, values(token))
    }

    public func revokedTokens(expiringAfter now: Int64) throws -> [RevokedToken] {
        let rows = try run(
            "SELECT jti, expires_at, revoked_at, reason FROM mcp_documents.revoked_tokens WHERE expires_at > $1",
            [.integer(now)])
        return try (0..<rows.count).map { row in
            guard let jti = rows.text(row, 0) else { throw StoreError.corruptRow }
            return RevokedToken(
                tokenID: jti, expiresAt: try rows.integer(row, 1), revokedAt: try rows.integer(row, 2),
                reason: rows.text(row, 3) ?? "")
        }
    }
}
