extension PostgresCredentialStore {
    static let userColumns = "username, password_hash, roles, scopes, disabled, weak_password, created_at, updated_at"

    public func createUser(_ user: UserRecord) throws {
        _ = try run(
            "INSERT INTO mcp_documents.users (\(Self.userColumns)) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            [
                .text(user.username), .text(user.passwordHash), Self.joined(user.roles), Self.joined(user.scopes),
                Self.boolean(user.disabled), Self.boolean(user.weakPassword), .integer(user.createdAt),
                .integer(user.updatedAt),
            ])
    }

    public func user(named username: String) throws -> UserRecord? {
        let rows = try run("SELECT \(Self.userColumns) FROM mcp_documents.users WHERE username = $1", [.text(username)])
        return rows.count == 0 ? nil : try Self.decodeUser(rows, 0)
    }

    public func users() throws -> [UserRecord] {
        let rows = try run("SELECT \(Self.userColumns) FROM mcp_documents.users ORDER BY username COLLATE \"C\"")
        return try (0..<rows.count).map { try Self.decodeUser(rows, $0) }
    }

    public func updatePassword(username: String, passwordHash: String, weakPassword: Bool, at now: Int64) throws
        -> Bool
    {
        try run(
            "UPDATE mcp_documents.users SET password_hash = $1, weak_password = $2, updated_at = $3 "
                + "WHERE username = $4 RETURNING username",
            [.text(passwordHash), Self.boolean(weakPassword), .integer(now), .text(username)]
        ).count == 1
    }

    public func setUserDisabled(username: String, disabled: Bool, at now: Int64) throws -> Bool {
        try run(
            "UPDATE mcp_documents.users SET disabled = $1, updated_at = $2 WHERE username = $3 RETURNING username",
            [Self.boolean(disabled), .integer(now), .text(username)]
        ).count == 1
    }

    private static func decodeUser(_ rows: PostgresRows, _ row: Int) throws -> UserRecord {
        guard let username = rows.text(row, 0), let hash = rows.text(row, 1) else { throw StoreError.corruptRow }
        return UserRecord(
            username: username, passwordHash: hash, roles: split(rows.text(row, 2)), scopes: split(rows.text(row, 3)),
            disabled: rows.text(row, 4) == "t", weakPassword: rows.text(row, 5) == "t",
            createdAt: try rows.integer(row, 6), updatedAt: try rows.integer(row, 7))
    }
}
