extension PostgresCredentialStore {
    static let keyColumns =
        "id, name, secret_hash, roles, scopes, created_at, expires_at, revoked_at, grace_until, replaced_by"

    public func insertAPIKey(_ key: APIKeyRecord) throws {
        _ = try run(Self.insertKey, Self.values(key))
    }

    private static let insertKey =
        "INSERT INTO mcp_documents.api_keys (\(keyColumns)) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"

    private static func values(_ key: APIKeyRecord) -> [PostgresValue] {
        [
            .text(key.id), .text(key.name), .text(key.secretHash), joined(key.roles), joined(key.scopes),
            .integer(key.createdAt), optional(key.expiresAt), optional(key.revokedAt), optional(key.graceUntil),
            key.replacedBy.map { .text($0) } ?? .null,
        ]
    }

    public func apiKey(id: String) throws -> APIKeyRecord? {
        let rows = try run("SELECT \(Self.keyColumns) FROM mcp_documents.api_keys WHERE id = $1", [.text(id)])
        return rows.count == 0 ? nil : try Self.decodeKey(rows, 0)
    }

    public func apiKeys() throws -> [APIKeyRecord] {
        let rows = try run(
            "SELECT \(Self.keyColumns) FROM mcp_documents.api_keys ORDER BY created_at, id COLLATE \"C\"")
        return try (0..<rows.count).map { try Self.decodeKey(rows, $0) }
    }

    public func rotateAPIKey(id: String, replacement: APIKeyRecord, graceUntil: Int64, at now: Int64) throws -> Bool {
        try transaction { db in
            // Locked: a concurrent rotation or revocation of the same key waits, then sees this one's result.
            let rows = try db.query(
                "SELECT \(Self.keyColumns) FROM mcp_documents.api_keys WHERE id = $1 FOR UPDATE", [.text(id)])
            guard rows.count == 1 else { return false }
            let old = try Self.decodeKey(rows, 0)
            guard old.isUsable(at: now) else { return false }
            // A grace never lengthens a key's life: an earlier grace or expiry stays.
            let until = min(graceUntil, old.graceUntil ?? graceUntil)
            _ = try db.query(
                "UPDATE mcp_documents.api_keys SET grace_until = $1, replaced_by = $2 WHERE id = $3",
                [.integer(until), .text(replacement.id), .text(id)])
            _ = try db.query(Self.insertKey, Self.values(replacement))
            return true
        }
    }

    public func revokeAPIKey(id: String, at now: Int64) throws -> Bool {
        try run(
            "UPDATE mcp_documents.api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL RETURNING id",
            [.integer(now), .text(id)]
        ).count == 1
    }

    private static func decodeKey(_ rows: PostgresRows, _ row: Int) throws -> APIKeyRecord {
        guard let id = rows.text(row, 0), let name = rows.text(row, 1), let hash = rows.text(row, 2) else {
            throw StoreError.corruptRow
        }
        return APIKeyRecord(
            id: id, name: name, secretHash: hash, roles: split(rows.text(row, 3)), scopes: split(rows.text(row, 4)),
            createdAt: try rows.integer(row, 5), expiresAt: try optionalInteger(rows, row, 6),
            revokedAt: try optionalInteger(rows, row, 7), graceUntil: try optionalInteger(rows, row, 8),
            replacedBy: rows.text(row, 9))
    }
}
