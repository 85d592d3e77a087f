/// The credential store on PostgreSQL: users, API keys, refresh tokens and revoked token ids in schema
/// `mcp_documents`, shared by every gateway that connects to the database.
///
/// Same contract as `SQLiteCredentialStore` (see `CredentialStore`). Each method is one statement or one
/// transaction on a pooled connection. Redeeming a refresh token and rotating an API key lock the row first
/// (`SELECT … FOR UPDATE`): a second gateway redeeming the same token waits for the first to commit, then
/// reads it spent and takes the replay path, so two gateways can never both rotate one token. Redemptions and
/// revocations first take a transaction-scoped advisory lock on the token's family, so that two replays within
/// one family (each revoking the rows the other holds) run one after the other instead of deadlocking.
///
/// The gateway's role (`l09_service`, see `PostgresDatabaseSetup`) may read users but not write them: `portal
/// user` runs with the owner's connection. It may delete nothing either: `purgeExpired` calls the `SECURITY
/// DEFINER` function `mcp_documents.purge_expired_credentials` (migration 5), which deletes only expired rows.
public final class PostgresCredentialStore: CredentialStore {
    /// The connections this store uses.
    public let pool: PostgresConnectionPool

    /// Opens the store over `pool` and brings the schema up to date (or checks that it is).
    /// - Throws: `StoreError`: `unavailable` when the database cannot be reached, `migration` when a migration is
    ///   pending and the connected role may not apply it.
    public init(pool: PostgresConnectionPool) throws {
        self.pool = pool
        _ = try pool.withConnection { connection, deadline in
            try PostgresMigrations.apply(on: connection, deadline: deadline)
        }
    }

    /// Runs one statement on a pooled connection.
    func run(_ sql: String, _ parameters: [PostgresValue] = []) throws -> PostgresRows {
        try Self.mappingConflict {
            try pool.withConnection { connection, deadline in
                try connection.query(sql, parameters, deadline: deadline)
            }
        }
    }

    /// Runs `body` in one transaction on a pooled connection; a failure rolls it back.
    func transaction<T>(_ body: (Statements) throws -> T) throws -> T {
        try Self.mappingConflict {
            try pool.withConnection { connection, deadline in
                try connection.transaction(deadline: deadline) {
                    try body(Statements(connection: connection, deadline: deadline))
                }
            }
        }
    }

    /// Statements inside one transaction.
    struct Statements {
        let connection: PostgresConnection
        let deadline: UInt64

        func query(_ sql: String, _ parameters: [PostgresValue] = []) throws -> PostgresRows {
            try connection.query(sql, parameters, deadline: deadline)
        }
    }

    /// A unique violation (SQLSTATE 23505) becomes `StoreError.conflict`, as on SQLite.
    private static func mappingConflict<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as StoreError where error.sqlState == "23505" {
            throw StoreError.conflict
        }
    }

    public func ping() throws {
        _ = try run("SELECT 1")
    }

    public func purgeExpired(at now: Int64, leewaySeconds: Int64) throws -> PurgedCredentials {
        precondition((0...3600).contains(leewaySeconds), "leewaySeconds must be 0...3600")
        // Through the function (migration 5), so that a role without DELETE may purge, and purge nothing else.
        let rows = try run(
            "SELECT purged_refresh_tokens, purged_revocations "
                + "FROM mcp_documents.purge_expired_credentials($1::bigint, $2::bigint)",
            [.integer(now), .integer(leewaySeconds)])
        guard rows.count == 1 else { throw StoreError.corruptRow }
        return PurgedCredentials(
            refreshTokens: Int(try rows.integer(0, 0)), revocations: Int(try rows.integer(0, 1)))
    }

    /// A role or scope list as stored: space-separated.
    static func joined(_ list: [String]) -> PostgresValue { .text(list.joined(separator: " ")) }

    static func split(_ text: String?) -> [String] {
        (text ?? "").split(separator: " ").map(String.init)
    }

    static func optional(_ value: Int64?) -> PostgresValue { value.map { .integer($0) } ?? .null }

    static func boolean(_ value: Bool) -> PostgresValue { .text(value ? "true" : "false") }

    /// Column `column` of row `row` as an optional integer.
    static func optionalInteger(_ rows: PostgresRows, _ row: Int, _ column: Int) throws -> Int64? {
        guard rows.text(row, column) != nil else { return nil }
        return try rows.integer(row, column)
    }
}
