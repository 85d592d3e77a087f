/// Loads an export back into the schema `mcp_documents`, all in one transaction, for `portal backup restore`.
///
/// `init` migrates the schema when the database has none, requires the same migrations as the backup and the
/// same tables and columns, locks every table, refuses tables that hold rows (unless `force`, which truncates
/// them), and disables user triggers (the append-only guard of `audit_records` among them) for the load. The
/// rows then stream in with `COPY ... FROM STDIN`; `commit` sets the sequences, re-enables the triggers, checks
/// every row count and commits. Anything that fails before `commit` returns rolls back: the store is as it was.
/// Run it as the schema's owner (the role `portal db init` ran as).
public final class PostgresRestore {
    private let connection: PostgresConnection
    private let idle: UInt64
    private let tables: [PostgresSnapshot.Table]
    private var loaded: [String: Int64] = [:]
    private var open: String?
    private var finished = false

    /// Why a restore was refused before anything was written.
    public struct Refusal: Error, CustomStringConvertible {
        public let description: String
    }

    /// Connects, checks the target and prepares the transaction.
    /// - Parameters:
    ///   - tables: the backup's tables with their columns.
    ///   - migrations: the backup's migration versions.
    ///   - force: empty tables that hold rows instead of refusing.
    /// - Throws: `Refusal` naming what differs or which table holds rows; `StoreError` when the database fails.
    public init(
        options: PostgresConnectionOptions, tables: [PostgresSnapshot.Table], migrations: [Int64], force: Bool
    ) throws {
        idle = options.timeoutNanoseconds
        self.tables = tables
        connection = try PostgresConnection(options: options, deadline: MonotonicTime.deadline(after: idle))
        let schema = PostgresMigrations.schema
        _ = try PostgresMigrations.apply(on: connection, deadline: deadline())
        let current = try PostgresMigrations.applied(on: connection, deadline: deadline()).map(\.version)
        guard current == migrations else {
            throw Refusal(
                description: "the database's schema is at migrations \(current), the backup's at \(migrations): "
                    + "restore with the build that made the backup")
        }
        try connection.execute("BEGIN", deadline: deadline())
        do {
            // Loading may take long; waiting for another session's lock may not.
            _ = try connection.query(
                "SELECT set_config('statement_timeout', '0', true), set_config('lock_timeout', $1, true), "
                    + PostgresSnapshot.textFormatSettings,
                [.text(String(idle / 1_000_000))], deadline: deadline())
            let present = try PostgresSnapshot.relations(of: schema, on: connection, deadline: deadline()).map(\.name)
            guard present == tables.map(\.name) else {
                throw Refusal(
                    description: "the database's tables [\(present.joined(separator: ", "))] are not the backup's "
                        + "[\(tables.map(\.name).joined(separator: ", "))]")
            }
            for table in tables {
                let columns = try PostgresSnapshot.columns(of: schema, table.name, on: connection, deadline: deadline())
                guard columns == table.columns else {
                    throw Refusal(description: "table \(table.name) has other columns than in the backup")
                }
            }
            let all = tables.map { PostgresIdentifier.qualified(schema, $0.name) }.joined(separator: ", ")
            try connection.execute(catalogSQL: "LOCK TABLE \(all) IN ACCESS EXCLUSIVE MODE", deadline: deadline())
            if !force {
                for table in tables where table.name != "schema_migrations" {
                    let sql = "SELECT EXISTS (SELECT 1 FROM \(PostgresIdentifier.qualified(schema, table.name)))"
                    if try connection.query(sql, deadline: deadline()).text(0, 0) == "t" {
                        throw Refusal(
                            description:
                                "table \(table.name) holds rows: restore into an empty schema, or pass --force "
                                + "to replace them")
                    }
                }
            }
            for table in tables {
                let name = PostgresIdentifier.qualified(schema, table.name)
                try connection.execute(catalogSQL: "ALTER TABLE \(name) DISABLE TRIGGER USER", deadline: deadline())
            }
            try connection.execute(catalogSQL: "TRUNCATE \(all)", deadline: deadline())
        } catch {
            rollback()
            throw error
        }
    }

    deinit { rollback() }

    /// Starts loading table `name`'s rows.
    public func beginTable(_ name: String) throws {
        guard let table = tables.first(where: { $0.name == name }), open == nil else {
            throw Refusal(description: "the backup holds table \(name), which this restore did not expect")
        }
        let list = table.columns.map(PostgresIdentifier.quoted).joined(separator: ", ")
        let target = PostgresIdentifier.qualified(PostgresMigrations.schema, name)
        try connection.beginCopyIn(catalogSQL: "COPY \(target) (\(list)) FROM STDIN", idleNanoseconds: idle)
        open = name
    }

    /// Sends COPY text of the open table.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        try connection.putCopyData(bytes, idleNanoseconds: idle)
    }

    /// Ends the open table's rows.
    public func endTable() throws {
        guard let name = open else { return }
        open = nil
        loaded[name] = try connection.endCopyIn(idleNanoseconds: idle)
    }

    /// Sets the sequences, re-enables the triggers, checks that every table got its rows, and commits.
    /// - Parameters:
    ///   - sequences: the backup's sequences part, lines of `name TAB last_value TAB t|f`.
    /// - Throws: `Refusal` or `StoreError`; the transaction is rolled back then.
    public func commit(sequences: [UInt8]) throws {
        do {
            let schema = PostgresMigrations.schema
            for line in sequences.split(separator: 0x0A) {
                let fields = line.split(separator: 0x09, omittingEmptySubsequences: false).map {
                    String(decoding: $0, as: UTF8.self)
                }
                guard fields.count == 3, Int64(fields[1]) != nil else {
                    throw Refusal(description: "the sequences part holds a malformed line")
                }
                _ = try connection.query(
                    "SELECT setval($1::regclass, $2::bigint, $3::boolean)",
                    [.text(PostgresIdentifier.qualified(schema, fields[0])), .text(fields[1]), .text(fields[2])],
                    deadline: deadline())
            }
            for table in tables {
                let name = PostgresIdentifier.qualified(schema, table.name)
                try connection.execute(catalogSQL: "ALTER TABLE \(name) ENABLE TRIGGER USER", deadline: deadline())
                guard loaded[table.name] == table.rows else {
                    throw Refusal(
                        description: "table \(table.name): loaded \(loaded[table.name] ?? 0) rows, the backup holds "
                            + "\(table.rows)")
                }
            }
            try connection.execute("COMMIT", deadline: deadline())
            finished = true
        } catch {
            rollback()
            throw error
        }
    }

    /// Abandons the transaction; nothing of this restore remains. In the middle of a COPY the connection is left
    /// for `deinit` to close, which makes the server roll back.
    public func rollback() {
        guard !finished else { return }
        finished = true
        if open == nil && !connection.isBroken { try? connection.execute("ROLLBACK", deadline: deadline()) }
    }

    private func deadline() -> UInt64 { MonotonicTime.deadline(after: idle) }
}
