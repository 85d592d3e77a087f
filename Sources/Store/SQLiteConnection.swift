import CSQLite

#if canImport(Glibc)
    import Glibc
#endif

/// One SQLite connection and its cache of prepared statements.
///
/// Not thread-safe: its owner keeps it behind a `Mutex`, so only one thread uses it at a time.
final class SQLiteConnection {
    let handle: OpaquePointer
    private var statements: [String: OpaquePointer] = [:]

    /// SQLite copies bound text before the call returns (`SQLITE_TRANSIENT`).
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    /// Opens (creating if needed) the database at `path`.
    ///
    /// A missing file is created 0600 first: SQLite would make it 0644 (less the umask), and it gives its `-wal`
    /// and `-shm` files the database's mode, so all three hold credentials and events for this user alone.
    init(path: String, busyTimeoutMilliseconds: Int32) throws {
        // Only when missing (O_EXCL): closing any descriptor of a file drops every POSIX lock this process holds
        // on it, so opening and closing an existing database would release another connection's locks.
        if path != ":memory:", !path.hasPrefix("file:") {
            let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if fd >= 0 { close(fd) }
        }
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            if let db { sqlite3_close_v2(db) }
            throw StoreError.open(rc)
        }
        handle = db
        sqlite3_extended_result_codes(db, 0)
        sqlite3_busy_timeout(db, busyTimeoutMilliseconds)
    }

    deinit {
        for statement in statements.values { sqlite3_finalize(statement) }
        sqlite3_close_v2(handle)
    }

    /// Runs SQL that takes no parameters and returns no rows we need (DDL, PRAGMA, BEGIN).
    func execute(_ sql: String) throws {
        let rc = sqlite3_exec(handle, sql, nil, nil, nil)
        guard rc == SQLITE_OK else { throw StoreError.step(rc, "execute") }
    }

    /// Runs `body` on this connection inside `BEGIN IMMEDIATE` … `COMMIT`, which takes the write lock first, so
    /// that what `body` reads cannot change before it writes, in this process or another; rolls back when `body`
    /// (or the commit) throws, and rethrows.
    func immediateTransaction<R>(_ body: (SQLiteConnection) throws -> R) throws -> R {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body(self)
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// Runs `sql` with `bindings` and calls `row` for every result row.
    ///
    /// The statement is prepared once and cached; it is reset and cleared after each use.
    func query(_ sql: String, _ bindings: [SQLiteValue] = [], row: (SQLiteRow) throws -> Void = { _ in }) throws {
        let statement = try prepared(sql)
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        for (index, value) in bindings.enumerated() {
            let position = Int32(index + 1)
            let rc: Int32
            switch value {
            case .null: rc = sqlite3_bind_null(statement, position)
            case .integer(let number): rc = sqlite3_bind_int64(statement, position, number)
            case .text(let text):
                // Refused as PostgreSQL refuses it, so both stores keep the same contract.
                guard !text.utf8.contains(0) else { throw StoreError.invalidText }
                rc = Self.bind(text, to: statement, at: position)
            }
            guard rc == SQLITE_OK else { throw StoreError.bind(rc) }
        }
        while true {
            let rc = sqlite3_step(statement)
            if rc == SQLITE_DONE { return }
            guard rc == SQLITE_ROW else { throw StoreError.step(rc, "step") }
            try row(SQLiteRow(statement: statement))
        }
    }

    /// The first column of the first row of `sql`, as text; for PRAGMA reads.
    func scalarText(_ sql: String) throws -> String? {
        var result: String?
        try query(sql) { row in
            if result == nil { result = row.text(0) }
        }
        return result
    }

    /// Binds text by its UTF-8 length, so an embedded NUL does not cut it short.
    private static func bind(_ text: String, to statement: OpaquePointer, at position: Int32) -> Int32 {
        var text = text
        return text.withUTF8 { bytes in
            // An empty buffer may have no address, and a nil pointer would bind NULL instead of "".
            guard let base = bytes.baseAddress, bytes.count > 0 else {
                return sqlite3_bind_text(statement, position, "", 0, transient)
            }
            return base.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                sqlite3_bind_text(statement, position, $0, Int32(bytes.count), transient)
            }
        }
    }

    private func prepared(_ sql: String) throws -> OpaquePointer {
        if let cached = statements[sql] { return cached }
        var statement: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard rc == SQLITE_OK, let statement else { throw StoreError.prepare(rc) }
        statements[sql] = statement
        return statement
    }
}

/// A value bound to a statement parameter.
enum SQLiteValue {
    case null
    case integer(Int64)
    case text(String)
}

/// The current row of a statement, valid only inside the `row` callback.
struct SQLiteRow {
    fileprivate let statement: OpaquePointer

    /// Column `index` as text, or nil when it is NULL.
    func text(_ index: Int32) -> String? {
        guard let pointer = sqlite3_column_text(statement, index) else { return nil }
        let count = Int(sqlite3_column_bytes(statement, index))
        return String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)
    }

    /// The number of columns the statement returns.
    var columnCount: Int32 { sqlite3_column_count(statement) }

    /// Column `index` as a 64-bit integer (0 when NULL).
    func integer(_ index: Int32) -> Int64 { sqlite3_column_int64(statement, index) }

    /// Column `index` as a 64-bit integer, or nil when it is NULL.
    func optionalInteger(_ index: Int32) -> Int64? {
        sqlite3_column_type(statement, index) == SQLITE_NULL ? nil : sqlite3_column_int64(statement, index)
    }
}
