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
            ]),
        SQLiteMigration(
            version: 2,
            statements: [
                """
                CREATE TABLE audit_records (
                    source_id TEXT NOT NULL,
                    sequence INTEGER NOT NULL CHECK (sequence >= 1),
                    recorded_at INTEGER NOT NULL,
                    type TEXT NOT NULL,
                    outcome TEXT NOT NULL,
                    request_id TEXT,
                    client_address TEXT,
                    subject TEXT,
                    route TEXT,
                    reason TEXT,
                    token_fingerprint TEXT,
                    prev_hash TEXT NOT NULL,
                    hash TEXT NOT NULL,
                    line TEXT NOT NULL,
                    received_at INTEGER NOT NULL,
                    PRIMARY KEY (source_id, sequence)
                ) WITHOUT ROWID
                """,
                "CREATE INDEX audit_records_by_time ON audit_records (recorded_at)",
                // Append-only: SQLite has no roles, so triggers alone refuse every change.
                """
                CREATE TRIGGER audit_records_no_update BEFORE UPDATE ON audit_records
                BEGIN SELECT RAISE(ABORT, 'audit records are append-only: UPDATE refused'); END
                """,
                """
                CREATE TRIGGER audit_records_no_delete BEFORE DELETE ON audit_records
                BEGIN SELECT RAISE(ABORT, 'audit records are append-only: DELETE refused'); END
                """,
            ]),
        // Encryption at rest (docs/encryption-at-rest.md): one data key per subject, wrapped by the master key;
        // rows written before it keep format 0 (plaintext) and still read.
        SQLiteMigration(
            version: 3,
            statements: [
                """
                CREATE TABLE subject_keys (
                    key_id TEXT PRIMARY KEY,
                    subject_hash TEXT NOT NULL,
                    master_key_id TEXT NOT NULL,
                    wrapped_key TEXT,
                    created_at INTEGER NOT NULL,
                    destroyed_at INTEGER,
                    CHECK ((wrapped_key IS NULL) = (destroyed_at IS NOT NULL))
                )
                """,
                "CREATE UNIQUE INDEX subject_keys_live ON subject_keys (subject_hash) WHERE destroyed_at IS NULL",
                "ALTER TABLE events ADD COLUMN key_id TEXT",
                "ALTER TABLE events ADD COLUMN format INTEGER NOT NULL DEFAULT 0",
            ]),
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
            do {
                try connection.immediateTransaction { connection in
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
                }
            } catch {
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
