extension SQLiteCredentialStore {
    static let userColumns = "username, password_hash, roles, scopes, disabled, weak_password, created_at, updated_at"

    public func createUser(_ user: UserRecord) throws {
        try write { db in
            try db.query(
                "INSERT INTO users (\(Self.userColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    .text(user.username), .text(user.passwordHash), Self.joined(user.roles), Self.joined(user.scopes),
                    .integer(user.disabled ? 1 : 0), .integer(user.weakPassword ? 1 : 0), .integer(user.createdAt),
                    .integer(user.updatedAt),
                ])
        }
    }

    public func user(named username: String) throws -> UserRecord? {
        try read { db in
            var found: UserRecord?
            try db.query("SELECT \(Self.userColumns) FROM users WHERE username = ?", [.text(username)]) { row in
                found = try Self.decodeUser(row)
            }
            return found
        }
    }

    public func users() throws -> [UserRecord] {
        try read { db in
            var all: [UserRecord] = []
            try db.query("SELECT \(Self.userColumns) FROM users ORDER BY username") { row in
                all.append(try Self.decodeUser(row))
            }
            return all
        }
    }

    public func updatePassword(username: String, passwordHash: String, weakPassword: Bool, at now: Int64) throws
        -> Bool
    {
        try write { db in
            var changed = false
            try db.query(
                "UPDATE users SET password_hash = ?, weak_password = ?, updated_at = ? WHERE username = ? "
                    + "RETURNING username",
                [.text(passwordHash), .integer(weakPassword ? 1 : 0), .integer(now), .text(username)]
            ) { _ in changed = true }
            return changed
        }
    }

    public func setUserDisabled(username: String, disabled: Bool, at now: Int64) throws -> Bool {
        try write { db in
            var changed = false
            try db.query(
                "UPDATE users SET disabled = ?, updated_at = ? WHERE username = ? RETURNING username",
                [.integer(disabled ? 1 : 0), .integer(now), .text(username)]
            ) { _ in changed = true }
            return changed
        }
    }

    private static func decodeUser(_ row: SQLiteRow) throws -> UserRecord {
        guard let username = row.text(0), let hash = row.text(1) else { throw StoreError.corruptRow }
        return UserRecord(
            username: username, passwordHash: hash, roles: split(row.text(2)), scopes: split(row.text(3)),
            disabled: row.integer(4) != 0, weakPassword: row.integer(5) != 0, createdAt: row.integer(6),
            updatedAt: row.integer(7))
    }
}
