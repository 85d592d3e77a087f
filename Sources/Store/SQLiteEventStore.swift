import CSQLite
import PortalCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The embedded event store: one SQLite file in WAL mode.
///
/// Guarantees: an `append` that returns has been committed with `synchronous=FULL`, so it
/// survives a crash or power loss; versions are per aggregate and consecutive; sequences
/// increase strictly and are never reused. Writes go through one connection behind a mutex;
/// reads use a second connection, which WAL lets run beside a write.
public final class SQLiteEventStore: EventStore {
    let writer: Mutex<SQLiteConnection>
    let reader: Mutex<SQLiteConnection>
    let clock: any PortalClock
    /// The master key and data-key cache; nil writes plaintext and cannot read sealed rows.
    let encryption: EventEncryption?

    private static let columns =
        "id, event_type, aggregate_type, aggregate_id, payload, metadata, created_at, version, sequence, format, key_id"

    /// Opens or creates `events.db` in `directory`, creating the directory (mode 0700) if needed,
    /// and applies pending migrations.
    /// - Parameters:
    ///   - directory: the data directory (`PORTAL_DATA_DIR`).
    ///   - fileName: the database file's name; default `events.db`.
    ///   - busyTimeoutMilliseconds: how long a statement waits for a lock; default 5000 ms.
    ///   - clock: the source of `created_at`.
    ///   - encryption: seals payload and metadata under per-subject data keys; nil (the default) keeps them
    ///     as plaintext, for tools and tests that do not hold the master key.
    /// - Throws: `StoreError` when the file cannot be opened or migrated.
    public init(
        directory: String, fileName: String = "events.db", busyTimeoutMilliseconds: Int32 = 5000,
        clock: any PortalClock = SystemClock(), encryption: EventEncryption? = nil
    ) throws {
        _ = mkdir(directory, 0o700)
        let path = directory.hasSuffix("/") ? directory + fileName : directory + "/" + fileName
        let writeConnection = try SQLiteConnection(path: path, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
        try Self.configure(writeConnection)
        let now = clock.unixNanoseconds() / 1000
        try SQLiteMigrations.apply(on: writeConnection, nowMicroseconds: now)
        let readConnection = try SQLiteConnection(path: path, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
        try Self.configure(readConnection)
        writer = Mutex(writeConnection)
        reader = Mutex(readConnection)
        self.clock = clock
        self.encryption = encryption
    }

    /// WAL so readers never block the writer; FULL so a commit is on disk before it returns; secure_delete so
    /// that an erased subject's wrapped key and overwritten rows do not linger in free pages.
    private static func configure(_ connection: SQLiteConnection) throws {
        _ = try connection.scalarText("PRAGMA journal_mode=WAL")
        try connection.execute("PRAGMA synchronous=FULL")
        try connection.execute("PRAGMA foreign_keys=ON")
        _ = try connection.scalarText("PRAGMA secure_delete=ON")
    }

    public func append(_ event: NewEvent) throws -> StoredEvent {
        let id = EventID.make()
        let createdAt = clock.unixNanoseconds() / 1000
        let subjectHash = try encryption.map { try subjectHashKey($0).hash(event.aggregateID) }
        let (stored, freshKey) = try writer.withLock { db in
            // The version must be read and written under one write lock, or two appends race; it is read before
            // sealing, which binds it.
            try db.immediateTransaction { db -> (StoredEvent, (keyID: String, key: [UInt8])?) in
                var version: Int64 = 1
                try db.query(
                    "SELECT COALESCE(MAX(version), 0) + 1 FROM events WHERE aggregate_id = ?",
                    [.text(event.aggregateID)]
                ) { row in version = row.integer(0) }
                var columns = SealedColumns.plaintext(event)
                var freshKey: (keyID: String, key: [UInt8])?
                if let encryption, let subjectHash {
                    let (keyID, key, fresh) = try Self.subjectKey(subjectHash, encryption, db, now: createdAt)
                    let row = SealedRowFields(
                        event, eventID: id, keyID: keyID, version: version, createdAtMicroseconds: createdAt)
                    columns = .sealed(event, row: row, key: key)
                    if fresh { freshKey = (keyID, key) }
                }
                var sequence: Int64 = 0
                try db.query(
                    "INSERT INTO events (id, event_type, aggregate_type, aggregate_id, payload, metadata, "
                        + "created_at, version, key_id, format) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                        + "RETURNING sequence",
                    [
                        .text(id), .text(event.eventType), .text(event.aggregateType), .text(event.aggregateID),
                        .text(columns.payload), .text(columns.metadata), .integer(createdAt), .integer(version),
                        columns.keyID.map { .text($0) } ?? .null, .integer(columns.format.rawValue),
                    ]
                ) { row in sequence = row.integer(0) }
                let stored = StoredEvent(
                    id: id, eventType: event.eventType, aggregateType: event.aggregateType,
                    aggregateID: event.aggregateID, payloadJSON: event.payloadJSON,
                    metadataJSON: event.metadataJSON, createdAtMicroseconds: createdAt, version: version,
                    sequence: sequence)
                return (stored, freshKey)
            }
        }
        // Cached once committed: a key whose row rolled back is never used.
        if let freshKey { encryption?.cache.insert(freshKey.key, for: freshKey.keyID) }
        return stored
    }

    /// The subject's live data key, created (and wrapped) when it has none; inside the append's transaction, so
    /// that an erasure in another process cannot slip between the lookup and the insert.
    private static func subjectKey(
        _ subjectHash: String, _ encryption: EventEncryption, _ db: SQLiteConnection, now: Int64
    ) throws -> (keyID: String, key: [UInt8], fresh: Bool) {
        var live: (keyID: String, wrapped: String, masterKeyID: String)?
        try db.query(
            "SELECT key_id, wrapped_key, master_key_id FROM subject_keys "
                + "WHERE subject_hash = ? AND destroyed_at IS NULL",
            [.text(subjectHash)]
        ) { row in
            guard let keyID = row.text(0), let wrapped = row.text(1), let master = row.text(2) else {
                throw StoreError.corruptRow
            }
            live = (keyID, wrapped, master)
        }
        if let live {
            let key = try encryption.dataKey(live.keyID, wrapped: live.wrapped, masterKeyID: live.masterKeyID)
            return (live.keyID, key, false)
        }
        let fresh = encryption.newDataKey()
        try db.query(
            "INSERT INTO subject_keys (key_id, subject_hash, master_key_id, wrapped_key, created_at) "
                + "VALUES (?, ?, ?, ?, ?)",
            [
                .text(fresh.keyID), .text(subjectHash), .text(encryption.masterKey.id), .text(fresh.wrapped),
                .integer(now),
            ])
        return (fresh.keyID, fresh.key, true)
    }

    public func event(id: String) throws -> StoredEvent? {
        let rows = try reader.withLock { db in
            var rows: [EventRow] = []
            try db.query("SELECT \(Self.columns) FROM events WHERE id = ?", [.text(id.lowercased())]) { row in
                rows.append(try Self.decode(row))
            }
            return rows
        }
        return try open(rows).first
    }

    public func list(_ query: EventQuery) throws -> EventPage {
        // Four fixed statement texts (by which filters are set), so each is prepared once.
        var sql = "SELECT \(Self.columns) FROM events WHERE sequence > ?"
        var bindings: [SQLiteValue] = [.integer(query.afterSequence ?? 0)]
        if let aggregateID = query.aggregateID {
            sql += " AND aggregate_id = ?"
            bindings.append(.text(aggregateID))
        }
        if let eventType = query.eventType {
            sql += " AND event_type = ?"
            bindings.append(.text(eventType))
        }
        sql += " ORDER BY sequence LIMIT ?"
        // One row more than asked tells whether a next page exists.
        bindings.append(.integer(Int64(query.limit) + 1))
        var rows: [EventRow] = []
        try reader.withLock { db in
            try db.query(sql, bindings) { row in rows.append(try Self.decode(row)) }
        }
        var events = try open(rows)
        guard events.count > query.limit else { return EventPage(events: events, nextAfterSequence: nil) }
        events.removeLast()
        return EventPage(events: events, nextAfterSequence: events.last?.sequence)
    }

    public func ping() throws {
        _ = try reader.withLock { db in try db.scalarText("SELECT 1") }
    }

    /// The connection settings as SQLite reports them, for readiness checks and tests.
    public func settings() throws -> SQLiteSettings {
        try writer.withLock { db in
            SQLiteSettings(
                journalMode: try db.scalarText("PRAGMA journal_mode") ?? "",
                synchronous: Int(try db.scalarText("PRAGMA synchronous") ?? "") ?? -1,
                foreignKeys: try db.scalarText("PRAGMA foreign_keys") == "1",
                busyTimeoutMilliseconds: Int(try db.scalarText("PRAGMA busy_timeout") ?? "") ?? -1)
        }
    }

    /// The migrations recorded in `schema_migrations`, in version order.
    public func appliedMigrations() throws -> [AppliedMigration] {
        try writer.withLock { db in try SQLiteMigrations.applied(on: db) }
    }

    private static func decode(_ row: SQLiteRow) throws -> EventRow {
        guard let id = row.text(0), let eventType = row.text(1), let aggregateType = row.text(2),
            let aggregateID = row.text(3), let payload = row.text(4), let metadata = row.text(5)
        else { throw StoreError.corruptRow }
        return EventRow(
            id: id, eventType: eventType, aggregateType: aggregateType, aggregateID: aggregateID, payload: payload,
            metadata: metadata, createdAtMicroseconds: row.integer(6), version: row.integer(7),
            sequence: row.integer(8), format: row.integer(9), keyID: row.text(10))
    }

    /// The events of `rows`, opened outside the reader lock (decryption need not hold up other readers); keys
    /// missing from the cache are read in one query.
    private func open(_ rows: [EventRow]) throws -> [StoredEvent] {
        try EventRow.open(rows, encryption) { keyIDs in
            var keys: [String: WrappedKey] = [:]
            let list = "[" + keyIDs.map { "\"\($0)\"" }.joined(separator: ",") + "]"
            try reader.withLock { db in
                try db.query(
                    "SELECT key_id, wrapped_key, master_key_id FROM subject_keys "
                        + "WHERE key_id IN (SELECT value FROM json_each(?))", [.text(list)]
                ) { row in
                    guard let keyID = row.text(0), let master = row.text(2) else { throw StoreError.corruptRow }
                    keys[keyID] = WrappedKey(wrapped: row.text(1), masterKeyID: master)
                }
            }
            return keys
        }
    }
}

/// Connection settings as SQLite reports them.
public struct SQLiteSettings: Sendable, Equatable {
    /// `wal` when write-ahead logging is on.
    public var journalMode: String
    /// 2 is `FULL`, 3 is `EXTRA`.
    public var synchronous: Int
    public var foreignKeys: Bool
    public var busyTimeoutMilliseconds: Int
}
