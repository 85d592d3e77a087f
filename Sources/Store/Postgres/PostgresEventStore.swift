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

    /// The advisory lock that serialises appends: (0x5350 "SP", 2).
    private static let appendLock: (Int64, Int64) = (0x5350, 2)

    static let columns =
        "id::text, event_type, aggregate_type, aggregate_id, payload::text, metadata::text, "
        + "(EXTRACT(EPOCH FROM created_at) * 1000000)::bigint, version, sequence"

    /// Opens the store over `pool` and brings the schema up to date (or checks that it is).
    /// - Parameter clock: the source of `created_at`.
    /// - Throws: `StoreError`: `unavailable` when the database cannot be reached, `migration` when a migration is
    ///   pending and the connected role may not apply it.
    public init(pool: PostgresConnectionPool, clock: any PortalClock = SystemClock()) throws {
        self.pool = pool
        self.clock = clock
        _ = try pool.withConnection { connection, deadline in
            try PostgresMigrations.apply(on: connection, deadline: deadline)
        }
    }

    public func append(_ event: NewEvent) throws -> StoredEvent {
        let id = EventID.make()
        let createdAt = clock.unixNanoseconds() / 1000
        let (sequence, version) = try pool.withConnection { connection, deadline in
            try connection.transaction(deadline: deadline) { () throws -> (Int64, Int64) in
                // One append at a time: the version is read and the identity drawn under the same lock.
                _ = try connection.query(
                    "SELECT pg_advisory_xact_lock($1::int, $2::int)",
                    [.integer(Self.appendLock.0), .integer(Self.appendLock.1)], deadline: deadline)
                let rows = try connection.query(
                    "INSERT INTO mcp_documents.events (id, event_type, aggregate_type, aggregate_id, payload, "
                        + "metadata, created_at, version) SELECT $1::uuid, $2, $3, $4::text, $5::json, $6::json, "
                        + "TIMESTAMPTZ 'epoch' + $7::bigint * INTERVAL '1 microsecond', COALESCE(MAX(version), 0) + 1 "
                        + "FROM mcp_documents.events WHERE aggregate_id = $4::text RETURNING sequence, version",
                    [
                        .text(id), .text(event.eventType), .text(event.aggregateType), .text(event.aggregateID),
                        .text(event.payloadJSON), .text(event.metadataJSON), .integer(createdAt),
                    ], deadline: deadline)
                guard rows.count == 1 else { throw StoreError.corruptRow }
                return (try rows.integer(0, 0), try rows.integer(0, 1))
            }
        }
        return StoredEvent(
            id: id, eventType: event.eventType, aggregateType: event.aggregateType, aggregateID: event.aggregateID,
            payloadJSON: event.payloadJSON, metadataJSON: event.metadataJSON, createdAtMicroseconds: createdAt,
            version: version, sequence: sequence)
    }

    public func event(id: String) throws -> StoredEvent? {
        // Anything but a UUID matches no event (and would be a type error to the server).
        guard EventID.isWellFormed(id) else { return nil }
        let rows = try pool.withConnection { connection, deadline in
            try connection.query(
                "SELECT \(Self.columns) FROM mcp_documents.events WHERE id = $1::uuid", [.text(id)],
                deadline: deadline)
        }
        return rows.count == 0 ? nil : try Self.decode(rows, 0)
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
        var events = try (0..<rows.count).map { try Self.decode(rows, $0) }
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

    private static func decode(_ rows: PostgresRows, _ row: Int) throws -> StoredEvent {
        guard let id = rows.text(row, 0), let eventType = rows.text(row, 1), let aggregateType = rows.text(row, 2),
            let aggregateID = rows.text(row, 3), let payload = rows.text(row, 4), let metadata = rows.text(row, 5)
        else { throw StoreError.corruptRow }
        return StoredEvent(
            id: id, eventType: eventType, aggregateType: aggregateType, aggregateID: aggregateID,
            payloadJSON: payload, metadataJSON: metadata, createdAtMicroseconds: try rows.integer(row, 6),
            version: try rows.integer(row, 7), sequence: try rows.integer(row, 8))
    }
}
