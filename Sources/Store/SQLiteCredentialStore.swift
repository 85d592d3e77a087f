import CSQLite
import PortalCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The embedded credential store: `credentials.db` beside the event store, WAL with `synchronous=FULL`.
///
/// Writes go through one connection behind a mutex, each in a `BEGIN IMMEDIATE` transaction; reads use a second
/// connection. Other processes (`portal user`, `portal key`) may write the same file at the same time: SQLite's
/// locks and the busy timeout serialise them, and `PRAGMA data_version` lets readers notice (see `changeCount`).
public final class SQLiteCredentialStore: CredentialStore {
    let writer: Mutex<SQLiteConnection>
    let reader: Mutex<SQLiteConnection>

    /// The schema; append new migrations, never edit one that shipped.
    static let migrations: [SQLiteMigration] = [
        SQLiteMigration(
            version: 1,
            statements: [
                """
                CREATE TABLE users (
                    username TEXT PRIMARY KEY, password_hash TEXT NOT NULL, roles TEXT NOT NULL,
                    scopes TEXT NOT NULL, disabled INTEGER NOT NULL, weak_password INTEGER NOT NULL,
                    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL)
                """,
                """
                CREATE TABLE api_keys (
                    id TEXT PRIMARY KEY, name TEXT NOT NULL, secret_hash TEXT NOT NULL, roles TEXT NOT NULL,
                    scopes TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER, revoked_at INTEGER,
                    grace_until INTEGER, replaced_by TEXT)
                """,
                "CREATE INDEX api_keys_by_name ON api_keys (name)",
                """
                CREATE TABLE refresh_tokens (
                    token_hash TEXT PRIMARY KEY, family_id TEXT NOT NULL, subject TEXT NOT NULL,
                    roles TEXT NOT NULL, scopes TEXT NOT NULL, issued_at INTEGER NOT NULL,
                    expires_at INTEGER NOT NULL, access_jti TEXT NOT NULL, access_expires_at INTEGER NOT NULL,
                    status TEXT NOT NULL)
                """,
                "CREATE INDEX refresh_tokens_by_family ON refresh_tokens (family_id)",
                """
                CREATE TABLE revoked_tokens (
                    jti TEXT PRIMARY KEY, expires_at INTEGER NOT NULL, revoked_at INTEGER NOT NULL,
                    reason TEXT NOT NULL)
                """,
            ])
    ]

    /// Opens (creating and migrating if needed) `directory/fileName`.
    /// - Parameters:
    ///   - directory: the data directory (`PORTAL_DATA_DIR`); created with mode 0700 when missing.
    ///   - fileName: default `credentials.db`.
    ///   - busyTimeoutMilliseconds: how long a statement waits for another process's lock; default 5000 ms.
    ///   - clock: stamps the migrations.
    /// - Throws: `StoreError` when the file cannot be opened or migrated.
    public init(
        directory: String, fileName: String = "credentials.db", busyTimeoutMilliseconds: Int32 = 5000,
        clock: any PortalClock = SystemClock()
    ) throws {
        _ = mkdir(directory, 0o700)
        let path = directory.hasSuffix("/") ? directory + fileName : directory + "/" + fileName
        let writeConnection = try SQLiteConnection(path: path, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
        try Self.configure(writeConnection)
        try SQLiteMigrations.apply(
            Self.migrations, on: writeConnection, nowMicroseconds: clock.unixNanoseconds() / 1000)
        let readConnection = try SQLiteConnection(path: path, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
        try Self.configure(readConnection)
        writer = Mutex(writeConnection)
        reader = Mutex(readConnection)
    }

    private static func configure(_ connection: SQLiteConnection) throws {
        _ = try connection.scalarText("PRAGMA journal_mode=WAL")
        try connection.execute("PRAGMA synchronous=FULL")
    }

    /// Runs `body` in one write transaction; a failure rolls it back. A duplicate key becomes `conflict`.
    func write<T: Sendable>(_ body: (SQLiteConnection) throws -> T) throws -> T {
        try writer.withLock { db in
            try db.execute("BEGIN IMMEDIATE")
            do {
                let result = try body(db)
                try db.execute("COMMIT")
                return result
            } catch let error as StoreError {
                try? db.execute("ROLLBACK")
                throw error.sqliteCode == SQLITE_CONSTRAINT ? StoreError.conflict : error
            } catch {
                try? db.execute("ROLLBACK")
                throw error
            }
        }
    }

    /// Runs `body` on the read connection.
    func read<T: Sendable>(_ body: (SQLiteConnection) throws -> T) throws -> T {
        try reader.withLock { db in try body(db) }
    }

    /// A number that changes whenever any connection, in any process, commits to the file; cheap to poll.
    public func changeCount() throws -> Int64 {
        try read { db in Int64(try db.scalarText("PRAGMA data_version") ?? "") ?? 0 }
    }

    public func ping() throws {
        _ = try read { db in try db.scalarText("SELECT 1") }
    }

    public func purgeExpired(at now: Int64, leewaySeconds: Int64) throws -> PurgedCredentials {
        precondition((0...3600).contains(leewaySeconds), "leewaySeconds must be 0...3600")
        // Tokens whose exp is after this are still accepted by a verifier with this leeway.
        let acceptedAfter = now - leewaySeconds
        return try write { db in
            var purged = PurgedCredentials(refreshTokens: 0, revocations: 0)
            try db.query(
                "DELETE FROM revoked_tokens WHERE expires_at <= ? RETURNING jti", [.integer(acceptedAfter)]
            ) { _ in purged.revocations += 1 }
            // A family goes whole, once a replay of its spent tokens has nothing left to revoke.
            try db.query(
                """
                DELETE FROM refresh_tokens WHERE expires_at <= ? AND NOT EXISTS (
                    SELECT 1 FROM refresh_tokens AS live
                    WHERE live.family_id = refresh_tokens.family_id AND live.access_expires_at > ?)
                RETURNING token_hash
                """, [.integer(now), .integer(acceptedAfter)]
            ) { _ in purged.refreshTokens += 1 }
            return purged
        }
    }

    /// A role or scope list as stored: space-separated.
    static func joined(_ list: [String]) -> SQLiteValue { .text(list.joined(separator: " ")) }

    static func split(_ text: String?) -> [String] {
        (text ?? "").split(separator: " ").map(String.init)
    }

    static func optional(_ value: Int64?) -> SQLiteValue { value.map { .integer($0) } ?? .null }
}
