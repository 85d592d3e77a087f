/// Receives a store's export part by part (the backup writer encrypts it).
public protocol StoreExportSink: AnyObject {
    func beginPart(_ name: String) throws
    func write(_ bytes: UnsafeRawBufferPointer) throws
    func endPart() throws
}

/// A consistent export of every table of the schema `mcp_documents`, for `portal backup create`.
///
/// One `REPEATABLE READ READ ONLY` transaction reads the catalog, the migration versions, every table
/// (`COPY ... TO STDOUT`, text format: one row per line) and every sequence's position, so all of it is one
/// moment of the database however much is written meanwhile. Tables are enumerated from the catalog, so tables
/// added by later migrations are exported without anyone listing them.
public enum PostgresSnapshot {
    /// One exported table.
    public struct Table: Sendable, Equatable {
        /// The table's name within the schema.
        public var name: String
        /// Its columns in the order of the COPY data (generated columns left out: the server computes them).
        public var columns: [String]
        public var rows: Int64

        public init(name: String, columns: [String], rows: Int64) {
            self.name = name
            self.columns = columns
            self.rows = rows
        }
    }

    /// What an export held.
    public struct Summary: Sendable {
        public var migrations: [Int64]
        public var tables: [Table]
        /// Sequences and their positions, as the `sequences` part holds them.
        public var sequenceCount: Int64
    }

    /// Output styles pinned for the transaction, so COPY text means the same to the restoring session whatever
    /// the server's defaults: ISO dates, exact floats, hex bytea.
    static let textFormatSettings =
        "set_config('DateStyle', 'ISO, MDY', true), set_config('IntervalStyle', 'postgres', true), "
        + "set_config('extra_float_digits', '3', true), set_config('bytea_output', 'hex', true)"

    /// The part name of table `name`.
    public static func partName(table name: String) -> String { PostgresMigrations.schema + "." + name }

    /// The part that holds the sequences: one line per sequence, `name TAB last_value TAB t|f`.
    public static let sequencesPartName = PostgresMigrations.schema + "#sequences"

    /// Exports every table and sequence of `mcp_documents` into `sink`, one part per table, then the sequences.
    /// - Parameters:
    ///   - idleSeconds: the longest the server may stay silent in one wait; default the options' timeout.
    /// - Throws: `StoreError`, or what `sink` throws.
    public static func export(options: PostgresConnectionOptions, into sink: any StoreExportSink) throws -> Summary {
        let idle = options.timeoutNanoseconds
        let connection = try PostgresConnection(options: options, deadline: MonotonicTime.deadline(after: idle))
        let schema = PostgresMigrations.schema
        func deadline() -> UInt64 { MonotonicTime.deadline(after: idle) }
        try connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", deadline: deadline())
        defer { if !connection.isBroken { try? connection.execute("ROLLBACK", deadline: deadline()) } }
        // A large table may take longer than one statement timeout; progress is bounded per wait instead.
        _ = try connection.query(
            "SELECT set_config('statement_timeout', '0', true), " + PostgresSnapshot.textFormatSettings,
            deadline: deadline())
        var summary = Summary(
            migrations: try PostgresMigrations.applied(on: connection, deadline: deadline()).map(\.version), tables: [],
            sequenceCount: 0)
        for (name, kind) in try relations(of: schema, on: connection, deadline: deadline()) {
            let columns = try self.columns(of: schema, name, on: connection, deadline: deadline())
            let list = columns.map(PostgresIdentifier.quoted).joined(separator: ", ")
            let table = PostgresIdentifier.qualified(schema, name)
            // COPY of a partitioned table needs a query; a plain table is copied directly (its rows only).
            let sql =
                kind == "p" ? "COPY (SELECT \(list) FROM \(table)) TO STDOUT" : "COPY \(table) (\(list)) TO STDOUT"
            try sink.beginPart(partName(table: name))
            let rows = try connection.copyOut(catalogSQL: sql, idleNanoseconds: idle) { try sink.write($0) }
            try sink.endPart()
            summary.tables.append(Table(name: name, columns: columns, rows: rows))
        }
        try sink.beginPart(sequencesPartName)
        let sequences = try connection.query(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                + "WHERE n.nspname = $1 AND c.relkind = 'S' ORDER BY c.relname", [.text(schema)], deadline: deadline())
        for row in 0..<sequences.count {
            let name = sequences.text(row, 0) ?? ""
            let position = try connection.query(
                "SELECT last_value::text, is_called FROM \(PostgresIdentifier.qualified(schema, name))",
                deadline: deadline())
            let line = "\(name)\t\(position.text(0, 0) ?? "1")\t\(position.text(0, 1) ?? "f")\n"
            try Array(line.utf8).withUnsafeBytes { try sink.write($0) }
        }
        try sink.endPart()
        summary.sequenceCount = Int64(sequences.count)
        return summary
    }

    /// The tables (`r`) and partitioned tables (`p`) of `schema` that are not partitions, by name.
    static func relations(
        of schema: String, on connection: PostgresConnection, deadline: UInt64
    ) throws -> [(name: String, kind: String)] {
        let rows = try connection.query(
            "SELECT c.relname, c.relkind::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                + "WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY c.relname",
            [.text(schema)], deadline: deadline)
        return (0..<rows.count).map { (rows.text($0, 0) ?? "", rows.text($0, 1) ?? "r") }
    }

    /// The stored (not generated) columns of `schema.table`, in column order.
    static func columns(
        of schema: String, _ table: String, on connection: PostgresConnection, deadline: UInt64
    ) throws -> [String] {
        let rows = try connection.query(
            "SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 "
                + "AND NOT attisdropped AND attgenerated = '' ORDER BY attnum",
            [.text(PostgresIdentifier.qualified(schema, table))], deadline: deadline)
        return (0..<rows.count).map { rows.text($0, 0) ?? "" }
    }
}
