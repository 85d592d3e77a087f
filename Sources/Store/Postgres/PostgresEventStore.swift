import PortalCore

/// The event store on PostgreSQL: schema `mcp_documents`, a bounded connection pool, parameterised statements.
///
/// Guarantees, as `SQLiteEventStore`'s: an `append` that returns has been committed (PostgreSQL's
/// `synchronous_commit`, on by default, makes that durable); versions are per aggregate and consecutive;
/// sequences increase strictly in commit order, so keyset pagination never skips a row. Appends take one
/// transaction-scoped advisory lock, so they are serialised across every data layer sharing the database:
/// an identity value is drawn and committed before the next append can draw one. A failure part-way rolls
/// the whole append back, so nothing is ever half-written.
public final class PostgresEventStore: EventStore {
    /// The connections this store uses.
    public let pool: PostgresConnectionPool
    let clock: any PortalClock
    /// The master key and data-key cache; nil writes plaintext and cannot read sealed rows.
    let encryption: EventEncryption?

    /// The advisory lock that serialises appends (and erasures): (0x5350 "SP", 2).
    static let appendLock: (Int64, Int64) = (0x5350, 2)

    static let columns =
        "id::text, event_type, aggregate_type, aggregate_id, payload::text, metadata::text, "
        + "(EXTRACT(EPOCH FROM created_at) * 1000000)::bigint, version, sequence, format, key_id"

    /// Opens the store over `pool` and brings the schema up to date (or checks that it is).
    /// - Parameters:
    ///   - clock: the source of `created_at`.
    ///   - encryption: seals payload and metadata under per-subject data keys; nil (the default) keeps them
    ///     as plaintext, for tools and tests that do not hold the master key.
    /// - Throws: `StoreError`: `unavailable` when the database cannot be reached, `migration` when a migration is
    ///   pending and the connected role may not apply it.
    public init(
        pool: PostgresConnectionPool, clock: any PortalClock = SystemClock(), encryption: EventEncryption? = nil
    ) throws {
        self.pool = pool
        self.clock = clock
        self.encryption = encryption
        _ = try pool.withConnection { connection, deadline in
            try PostgresMigrations.apply(on: connection, deadline: deadline)
        }
    }

    public func append(_ event: NewEvent) throws -> StoredEvent {
        let id = EventID.make()
        let clockMicroseconds = clock.unixNanoseconds() / 1000
        let subjectHash = try encryption.map { try subjectHashKey($0).hash(event.aggregateID) }
        var freshKey: (keyID: String, key: [UInt8])?
        let (sequence, version, createdAt) = try pool.withConnection { connection, deadline in
            try connection.transaction(deadline: deadline) { () throws -> (Int64, Int64, Int64) in
                // One append at a time: the version is read and the identity drawn under the same lock.
                _ = try connection.query(
                    "SELECT pg_advisory_xact_lock($1::int, $2::int)",
                    [.integer(Self.appendLock.0), .integer(Self.appendLock.1)], deadline: deadline)
                // The version and the time as the row will read back, before sealing: both are bound into the
                // additional data, and the lock keeps the version true until the insert. The time goes through
                // the same expressions that write and read it, because PostgreSQL multiplies the interval in
                // float8: exact up to 2^53 µs (the year 2255), rounded past it, so past it the row holds a
                // neighbour of the clock's reading and that is what must be sealed and returned.
                let next = try connection.query(
                    "SELECT COALESCE(MAX(version), 0) + 1, (EXTRACT(EPOCH FROM TIMESTAMPTZ 'epoch' + $2::bigint "
                        + "* INTERVAL '1 microsecond') * 1000000)::bigint FROM mcp_documents.events "
                        + "WHERE aggregate_id = $1::text",
                    [.text(event.aggregateID), .integer(clockMicroseconds)], deadline: deadline)
                guard next.count == 1 else { throw StoreError.corruptRow }
                let version = try next.integer(0, 0)
                let createdAt = try next.integer(0, 1)
                var columns = SealedColumns.plaintext(event)
                freshKey = nil
                if let encryption, let subjectHash {
                    let (keyID, key, fresh) = try Self.subjectKey(
                        subjectHash, encryption, connection, deadline: deadline, now: clockMicroseconds)
                    let row = SealedRowFields(
                        event, eventID: id, keyID: keyID, version: version, createdAtMicroseconds: createdAt)
                    columns = .sealed(event, row: row, key: key)
                    if fresh { freshKey = (keyID, key) }
                }
                let rows = try connection.query(
                    "INSERT INTO mcp_documents.events (id, event_type, aggregate_type, aggregate_id, payload, "
                        + "metadata, created_at, version, key_id, format) VALUES ($1::uuid, $2, $3, $4, $5::json, "
                        + "$6::json, TIMESTAMPTZ 'epoch' + $7::bigint * INTERVAL '1 microsecond', $8, $9, $10) "
                        + "RETURNING sequence",
                    [
                        .text(id), .text(event.eventType), .text(event.aggregateType), .text(event.aggregateID),
                        .text(columns.payload), .text(columns.metadata), .integer(clockMicroseconds),
                        .integer(version), columns.keyID.map { .text($0) } ?? .null,
                        .integer(columns.format.rawValue),
                    ], deadline: deadline)
                guard rows.count == 1 else { throw StoreError.corruptRow }
                return (try rows.integer(0, 0), version, createdAt)
            }
        }
        if let freshKey { encryption?.cache.insert(freshKey.key, for: freshKey.keyID) }
        return StoredEvent(
            id: id, eventType: event.eventType, aggregateType: event.aggregateType, aggregateID: event.aggregateID,
            payloadJSON: event.payloadJSON, metadataJSON: event.metadataJSON, createdAtMicroseconds: createdAt,
            version: version, sequence: sequence)
    }

    /// The subject's live data key, created (and wrapped) when it has none; under the append lock, so that an
    /// erasure cannot slip between the lookup and the insert.
    private static func subjectKey(
        _ subjectHash: String, _ encryption: EventEncryption, _ connection: PostgresConnection, deadline: UInt64,
        now: Int64
    ) throws -> (keyID: String, key: [UInt8], fresh: Bool) {
        let live = try connection.query(
            "SELECT key_id, wrapped_key, master_key_id FROM mcp_documents.subject_keys "
                + "WHERE subject_hash = $1 AND destroyed_at IS NULL", [.text(subjectHash)], deadline: deadline)
        if live.count == 1 {
            guard let keyID = live.text(0, 0), let wrapped = live.text(0, 1), let master = live.text(0, 2) else {
                throw StoreError.corruptRow
            }
            return (keyID, try encryption.dataKey(keyID, wrapped: wrapped, masterKeyID: master), false)
        }
        let fresh = encryption.newDataKey()
        _ = try connection.query(
            "INSERT INTO mcp_documents.subject_keys (key_id, subject_hash, master_key_id, wrapped_key, created_at) "
                + "VALUES ($1, $2, $3, $4, TIMESTAMPTZ 'epoch' + $5::bigint * INTERVAL '1 microsecond')",
            [
                .text(fresh.keyID), .text(subjectHash), .text(encryption.masterKey.id), .text(fresh.wrapped),
                .integer(now),
            ], deadline: deadline)
        return (fresh.keyID, fresh.key, true)
    }

    public func event(id: String) throws -> StoredEvent? {
        // Anything but a UUID matches no event (and would be a type error to the server).
        guard EventID.isWellFormed(id) else { return nil }
        let rows = try pool.withConnection { connection, deadline in
            try connection.query(
                "SELECT \(Self.columns) FROM mcp_documents.events WHERE id = $1::uuid", [.text(id)],
                deadline: deadline)
        }
        guard rows.count > 0 else { return nil }
        return try open([try Self.decode(rows, 0)]).first
    }

    public func list(_ query: EventQuery) throws -> EventPage {
        // Four fixed statement texts (by which filters are set), so each is prepared once per connection.
        var sql = "SELECT \(Self.columns) FROM mcp_documents.events WHERE sequence > $1"
        var parameters: [PostgresValue] = [.integer(query.afterSequence ?? 0)]
        if let aggregateID = query.aggregateID {
            parameters.append(.text(aggregateID))
            sql += " AND aggregate_id = $\(parameters.count)"
        }
        if let eventType = query.eventType {
            parameters.append(.text(eventType))
            sql += " AND event_type = $\(parameters.count)"
        }
        // One row more than asked tells whether a next page exists.
        parameters.append(.integer(Int64(query.limit) + 1))
        sql += " ORDER BY sequence LIMIT $\(parameters.count)"
        let rows = try pool.withConnection { connection, deadline in
            try connection.query(sql, parameters, deadline: deadline)
        }
        var events = try open(try (0..<rows.count).map { try Self.decode(rows, $0) })
        guard events.count > query.limit else { return EventPage(events: events, nextAfterSequence: nil) }
        events.removeLast()
        return EventPage(events: events, nextAfterSequence: events.last?.sequence)
    }

    public func ping() throws {
        _ = try pool.withConnection { connection, deadline in try connection.query("SELECT 1", deadline: deadline) }
    }

    /// The migrations recorded in `mcp_documents.schema_migrations`, in version order.
    public func appliedMigrations() throws -> [AppliedMigration] {
        try pool.withConnection { connection, deadline in
            try PostgresMigrations.applied(on: connection, deadline: deadline)
        }
    }

    /// Whether a pooled connection is encrypted with TLS (for `sslmode` checks and tests).
    public func connectionUsesTLS() throws -> Bool {
        try pool.withConnection { connection, _ in connection.usesTLS }
    }

    private static func decode(_ rows: PostgresRows, _ row: Int) throws -> EventRow {
        guard let id = rows.text(row, 0), let eventType = rows.text(row, 1), let aggregateType = rows.text(row, 2),
            let aggregateID = rows.text(row, 3), let payload = rows.text(row, 4), let metadata = rows.text(row, 5)
        else { throw StoreError.corruptRow }
        return EventRow(
            id: id, eventType: eventType, aggregateType: aggregateType, aggregateID: aggregateID, payload: payload,
            metadata: metadata, createdAtMicroseconds: try rows.integer(row, 6), version: try rows.integer(row, 7),
            sequence: try rows.integer(row, 8), format: try rows.integer(row, 9), keyID: rows.text(row, 10))
    }

    /// The events of `rows`, opened; keys missing from the cache are read in one query.
    private func open(_ rows: [EventRow]) throws -> [StoredEvent] {
        try EventRow.open(rows, encryption) { keyIDs in
            // Key ids are 32 hex digits (checked when the rows were opened), so the array literal needs no quoting.
            let keys = try pool.withConnection { connection, deadline in
                try connection.query(
                    "SELECT key_id, wrapped_key, master_key_id FROM mcp_documents.subject_keys "
                        + "WHERE key_id = ANY($1::text[])", [.text("{" + keyIDs.joined(separator: ",") + "}")],
                    deadline: deadline)
            }
            var found: [String: WrappedKey] = [:]
            for row in 0..<keys.count {
                guard let keyID = keys.text(row, 0), let master = keys.text(row, 2) else { throw StoreError.corruptRow }
                found[keyID] = WrappedKey(wrapped: keys.text(row, 1), masterKeyID: master)
            }
            return found
        }
    }
}
