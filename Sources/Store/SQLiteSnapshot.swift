import CSQLite

#if canImport(Glibc)
    import Glibc
#endif

/// Consistent copies of the SQLite databases in a data directory, with SQLite's online backup API
/// (`sqlite3_backup_*`), for `portal backup`; and the reverse, for restore.
///
/// Generic by design: every `*.db` file that is a SQLite database is copied whole, so tables and databases
/// added later are in the backup without anyone listing them.
public enum SQLiteSnapshot {
    /// A database as `inspect` found it.
    public struct Database: Sendable, Equatable {
        /// The user tables (SQLite's own excluded) and their row counts, by name.
        public var tables: [(name: String, rows: Int64)]
        /// The versions recorded in its `schema_migrations`, ascending; empty without that table.
        public var migrations: [Int64]

        public static func == (lhs: Database, rhs: Database) -> Bool {
            lhs.tables.map(\.name) == rhs.tables.map(\.name) && lhs.tables.map(\.rows) == rhs.tables.map(\.rows)
                && lhs.migrations == rhs.migrations
        }
    }

    private static let header: [UInt8] = Array("SQLite format 3".utf8) + [0]

    /// The names of the SQLite database files (`*.db`) in `directory`, sorted. Empty files are skipped; a `*.db`
    /// that cannot be read or is not a database (a store file replaced or damaged) is an error, never silently
    /// left out of a backup.
    /// - Throws: `StoreError` (`open`) when the directory cannot be read, `notADatabase` for such a file.
    public static func databaseFiles(in directory: String) throws -> [String] {
        guard let dir = opendir(directory) else { throw StoreError.open(SQLITE_CANTOPEN) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            guard name.hasSuffix(".db") else { continue }
            switch contents(directory + "/" + name) {
            case .database: names.append(name)
            case .empty: continue
            case .other: throw StoreError.notADatabase
            }
        }
        return names.sorted()
    }

    /// Copies the databases `names` of `directory` into `staging` under the same names, all from one moment:
    /// one connection attaches them all and holds one read transaction while each is copied whole.
    /// - Throws: `StoreError` when a database cannot be opened, read or written.
    public static func copy(_ names: [String], from directory: String, into staging: String) throws {
        guard let first = names.first else { return }
        let source = try SQLiteConnection(path: directory + "/" + first, busyTimeoutMilliseconds: 5000)
        let schemas = ["main"] + (1..<names.count).map { "s\($0)" }
        for (index, name) in names.enumerated().dropFirst() {
            try source.query("ATTACH DATABASE ? AS s\(index)", [.text(directory + "/" + name)])
        }
        // In WAL mode a read transaction starts at its first read; reading every schema first pins one snapshot.
        try source.execute("BEGIN")
        defer { try? source.execute("ROLLBACK") }
        for schema in schemas { _ = try source.scalarText("SELECT count(*) FROM \(schema).sqlite_master") }
        for (schema, name) in zip(schemas, names) {
            let target = try SQLiteConnection(path: staging + "/" + name, busyTimeoutMilliseconds: 5000)
            try runBackup(from: source, schema: schema, to: target)
        }
    }

    /// The tables, row counts and migrations of the database at `path`, after `PRAGMA integrity_check`.
    /// - Throws: `StoreError` (`corrupt_row`) when the integrity check fails, or when it cannot be read.
    public static func inspect(path: String) throws -> Database {
        guard isDatabase(path) else { throw StoreError.corruptRow }
        let db = try SQLiteConnection(path: path, busyTimeoutMilliseconds: 5000)
        guard try db.scalarText("PRAGMA integrity_check") == "ok" else { throw StoreError.corruptRow }
        var names: [String] = []
        try db.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name") {
            row in names.append(row.text(0) ?? "")
        }
        var result = Database(tables: [], migrations: [])
        for name in names {
            let rows = Int64(try db.scalarText("SELECT count(*) FROM \(quoted(name))") ?? "") ?? -1
            result.tables.append((name, rows))
        }
        if names.contains("schema_migrations") {
            try db.query("SELECT version FROM schema_migrations ORDER BY version") { row in
                result.migrations.append(row.integer(0))
            }
        }
        return result
    }

    /// Replaces everything in the database at `target` (created when missing) with the content of `source`, in
    /// one write transaction of `target`: a failure or a crash leaves `target` as it was.
    /// - Throws: `StoreError` when either cannot be opened or the copy fails (another process holds `target`).
    public static func replace(_ target: String, with source: String) throws {
        let from = try SQLiteConnection(path: source, busyTimeoutMilliseconds: 5000)
        let to = try SQLiteConnection(path: target, busyTimeoutMilliseconds: 5000)
        try to.execute("PRAGMA synchronous=FULL")
        try runBackup(from: from, schema: "main", to: to)
    }

    /// Whether `path` is a regular file that starts with SQLite's header.
    static func isDatabase(_ path: String) -> Bool { contents(path) == .database }

    enum Contents { case database, empty, other }

    /// What the file at `path` holds: a SQLite database, nothing (a regular empty file), or anything else
    /// (unreadable, not a regular file, other bytes).
    static func contents(_ path: String) -> Contents {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .other }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return .other }
        if info.st_size == 0 { return .empty }
        var bytes = [UInt8](repeating: 0, count: header.count)
        let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        return n == header.count && bytes == header ? .database : .other
    }

    /// `name` as a quoted SQL identifier.
    static func quoted(_ name: String) -> String { "\"" + name.replacingQuotes() + "\"" }

    /// Copies schema `schema` of `source` over `target`'s main database in one step.
    private static func runBackup(from source: SQLiteConnection, schema: String, to target: SQLiteConnection) throws {
        guard let backup = sqlite3_backup_init(target.handle, "main", source.handle, schema) else {
            throw StoreError.step(sqlite3_errcode(target.handle), "backup_init")
        }
        let stepped = sqlite3_backup_step(backup, -1)
        let finished = sqlite3_backup_finish(backup)
        guard stepped == SQLITE_DONE else { throw StoreError.step(stepped, "backup_step") }
        guard finished == SQLITE_OK else { throw StoreError.step(finished, "backup_finish") }
    }
}

extension String {
    /// The text with every `"` doubled, for a quoted SQL identifier.
    fileprivate func replacingQuotes() -> String {
        var out = ""
        for character in self { out += character == "\"" ? "\"\"" : String(character) }
        return out
    }
}
