extension SQLiteCredentialStore {
    static let keyColumns =
        "id, name, secret_hash, roles, scopes, created_at, expires_at, revoked_at, grace_until, replaced_by"

    public func insertAPIKey(_ key: APIKeyRecord) throws {
        try write { db in try Self.insert(key, db) }
    }

    private static func insert(_ key: APIKeyRecord, _ db: SQLiteConnection) throws {
        try db.query(
            "INSERT INTO api_keys (\(keyColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                .text(key.id), .text(key.name), .text(key.secretHash), joined(key.roles), joined(key.scopes),
                .integer(key.createdAt), optional(key.expiresAt), optional(key.revokedAt), optional(key.graceUntil),
                key.replacedBy.map { .text($0) } ?? .null,
            ])
    }

    public func apiKey(id: String) throws -> APIKeyRecord? {
        try read { db in
            var found: APIKeyRecord?
            try db.query("SELECT \(Self.keyColumns) FROM api_keys WHERE id = ?", [.text(id)]) { row in
                found = try Self.decodeKey(row)
            }
            return found
        }
    }

    public func apiKeys() throws -> [APIKeyRecord] {
        try read { db in
            var all: [APIKeyRecord] = []
            try db.query("SELECT \(Self.keyColumns) FROM api_keys ORDER BY created_at, id") { row in
                all.append(try Self.decodeKey(row))
            }
            return all
        }
    }

    public func rotateAPIKey(id: String, replacement: APIKeyRecord, graceUntil: Int64, at now: Int64) throws -> Bool {
        try write { db in
            var old: APIKeyRecord?
            try db.query("SELECT \(Self.keyColumns) FROM api_keys WHERE id = ?", [.text(id)]) { row in
                old = try Self.decodeKey(row)
            }
            guard let old, old.isUsable(at: now) else { return false }
            // A grace never lengthens a key's life: an earlier grace or expiry stays.
            let until = min(graceUntil, old.graceUntil ?? graceUntil)
            try db.query(
                "UPDATE api_keys SET grace_until = ?, replaced_by = ? WHERE id = ?",
                [.integer(until), .text(replacement.id), .text(id)])
            try Self.insert(replacement, db)
            return true
        }
    }

    public func revokeAPIKey(id: String, at now: Int64) throws -> Bool {
        try write { db in
            var changed = false
            try db.query(
                "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL RETURNING id",
                [.integer(now), .text(id)]
            ) { _ in changed = true }
            return changed
        }
    }

    private static func decodeKey(_ row: SQLiteRow) throws -> APIKeyRecord {
        guard let id = row.text(0), let name = row.text(1), let hash = row.text(2) else { throw StoreError.corruptRow }
        return APIKeyRecord(
            id: id, name: name, secretHash: hash, roles: split(row.text(3)), scopes: split(row.text(4)),
            createdAt: row.integer(5), expiresAt: row.optionalInteger(6), revokedAt: row.optionalInteger(7),
            graceUntil: row.optionalInteger(8), replacedBy: row.text(9))
    }
}
