/// One numbered schema change.
struct SQLiteMigration {
    let version: Int64
    let statements: [String]
}

/// A migration that has been applied to a database.
public struct AppliedMigration: Sendable, Equatable {
    public var version: Int64
    /// When it was applied, in microseconds since the Unix epoch.
    public var appliedAtMicroseconds: Int64
}

/// The event store's schema, as numbered migrations applied in order, each in its own transaction.
///
/// Append new migrations with the next number; never edit one that has shipped.
enum SQLiteMigrations {
    static let all: [SQLiteMigration] = [
        SQLiteMigration(
            version: 1,
            statements: [
                """
                CREATE TABLE events (
                    sequence INTEGER PRIMARY KEY AUTOINCREMENT,
                    id TEXT NOT NULL UNIQUE,
                    event_type TEXT NOT NULL,
                    aggregate_type TEXT NOT NULL,
                    aggregate_id TEXT NOT NULL,
                    payload TEXT NOT NULL,
                    metadata TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    version INTEGER NOT NULL,
                    UNIQUE (aggregate_id, version)
                )
                """,
                "CREATE INDEX events_by_type ON events (event_type, sequence)",
            ])
    ]

    /// Applies every migration of `migrations` (default: the event store's) the database has not recorded yet;
    /// safe to run on every start.
    static func apply(
        _ migrations: [SQLiteMigration] = all, on connection: SQLiteConnection, nowMicroseconds: Int64
    ) throws {
        try connection.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
                + "(version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)")
        for migration in migrations {
            // BEGIN IMMEDIATE takes the write lock first, so two processes starting at once
            // cannot both decide that the same migration is missing.
            try connection.execute("BEGIN IMMEDIATE")
            do {
                var applied = false
                try connection.query(
                    "SELECT 1 FROM schema_migrations WHERE version = ?", [.integer(migration.version)]
                ) { _ in applied = true }
                if !applied {
                    for statement in migration.statements { try connection.execute(statement) }
                    try connection.query(
                        "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
                        [.integer(migration.version), .integer(nowMicroseconds)])
                }
                try connection.execute("COMMIT")
            } catch {
                try? connection.execute("ROLLBACK")
                throw StoreError.migration((error as? StoreError)?.sqliteCode ?? 0)
            }
        }
    }

    /// Every recorded migration, in version order.
    static func applied(on connection: SQLiteConnection) throws -> [AppliedMigration] {
        var result: [AppliedMigration] = []
        try connection.query("SELECT version, applied_at FROM schema_migrations ORDER BY version") { row in
            result.append(AppliedMigration(version: row.integer(0), appliedAtMicroseconds: row.integer(1)))
        }
        return result
    }
}
