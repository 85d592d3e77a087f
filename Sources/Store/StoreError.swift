/// A failure of an event store.
///
/// The description names the operation and SQLite's result code or PostgreSQL's SQLSTATE, never a bound
/// value, so that payloads and identifiers cannot leak into logs through an error. Only a failed connection
/// attempt carries libpq's message (host, port, user, reason), which holds no password.
public struct StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    private enum Code: Sendable, Equatable {
        case open
        case prepare
        case step
        case bind
        case migration
        case corruptRow
        case conflict
        case unavailable
        case database
        case invalidText
        case auditGap
        case auditConflict
        case configuration
        case encryption
    }

    private let code: Code
    /// SQLite's primary result code, or 0 when the failure did not come from SQLite.
    public let sqliteCode: Int32
    /// PostgreSQL's five-character SQLSTATE, or empty when the failure did not come from the server.
    public let sqlState: String
    /// A fixed, short name of what was being done, safe for logs and metric labels.
    public let operation: StaticString
    /// libpq's explanation of a failed connection attempt (first line, at most 300 bytes); empty otherwise.
    public let connectionMessage: String

    private init(
        _ code: Code, operation: StaticString, sqliteCode: Int32 = 0, sqlState: String = "",
        connectionMessage: String = ""
    ) {
        self.code = code
        self.operation = operation
        self.sqliteCode = sqliteCode
        self.sqlState = sqlState
        self.connectionMessage = connectionMessage
    }

    static func open(_ rc: Int32) -> StoreError { StoreError(.open, operation: "open", sqliteCode: rc) }
    /// A `*.db` file of the data directory that is not a SQLite database (or cannot be read).
    static let notADatabase = StoreError(.open, operation: "not_a_sqlite_database", sqliteCode: 26)  // SQLITE_NOTADB
    static func prepare(_ rc: Int32) -> StoreError { StoreError(.prepare, operation: "prepare", sqliteCode: rc) }
    static func step(_ rc: Int32, _ operation: StaticString) -> StoreError {
        StoreError(.step, operation: operation, sqliteCode: rc)
    }
    static func bind(_ rc: Int32) -> StoreError { StoreError(.bind, operation: "bind", sqliteCode: rc) }
    static func migration(_ rc: Int32) -> StoreError { StoreError(.migration, operation: "migrate", sqliteCode: rc) }
    static let corruptRow = StoreError(.corruptRow, operation: "decode_row")
    /// A row with the same key already exists (a user name taken, a key id reused).
    public static let conflict = StoreError(.conflict, operation: "insert", sqliteCode: 19)

    /// Whether the write collided with an existing row's key.
    public var isConflict: Bool { code == .conflict }
    /// A text value holding a NUL byte, which PostgreSQL cannot store: refused by both stores alike.
    static let invalidText = StoreError(.invalidText, operation: "bind")

    /// The database cannot be reached in time: connect failed, the pool stayed full, a query timed out.
    static func unavailable(_ operation: StaticString, message: String = "") -> StoreError {
        StoreError(.unavailable, operation: operation, connectionMessage: Self.firstLine(message))
    }

    /// An error the server reported; transient classes (connection, shutdown, timeouts, deadlocks,
    /// resources) count as unavailable, so that callers answer 503 and retry later.
    static func database(_ sqlState: String, _ operation: StaticString) -> StoreError {
        StoreError(isTransient(sqlState) ? .unavailable : .database, operation: operation, sqlState: sqlState)
    }

    /// A migration the connected role may not apply (it does not own the schema).
    static func migrationNotPermitted(_ sqlState: String) -> StoreError {
        StoreError(.migration, operation: "migrate", sqlState: sqlState)
    }

    /// A connection setting libpq cannot parse; the setting's value is never repeated.
    static let invalidConnectionOptions = StoreError(.configuration, operation: "connection_options")

    /// Audit records that do not continue the stored chain of their source: records are missing before them.
    static let auditGap = StoreError(.auditGap, operation: "append_audit")
    /// Audit records that contradict what is stored: same sequence with another hash, or a broken link.
    static let auditConflict = StoreError(.auditConflict, operation: "append_audit")

    /// Whether the database was busy or locked for longer than the busy timeout (SQLite).
    public var isBusy: Bool { sqliteCode == 5 || sqliteCode == 6 }

    /// Whether the failure is temporary (busy, unreachable, too slow): the request may be retried later (503).
    public var isUnavailable: Bool { isBusy || code == .unavailable }

    /// A sealed payload, metadata or data key that does not open: altered, moved to another row, or truncated.
    /// Never answered with what the bytes would decrypt to.
    public static let undecryptable = StoreError(.encryption, operation: "decrypt")
    /// A data key wrapped under another master key than the one configured (`PORTAL_MASTER_KEY`).
    public static let wrongMasterKey = StoreError(.encryption, operation: "master_key_id")
    /// Sealed rows read, or a subject erased, by a store opened without a master key.
    public static let noMasterKey = StoreError(.encryption, operation: "no_master_key")

    /// Whether stored ciphertext could not be opened (or no master key was given to open it).
    public var isEncryptionFailure: Bool { code == .encryption }

    /// Whether a value was refused as input (a NUL byte in text): the caller's fault, not the store's.
    public var isInvalidInput: Bool { code == .invalidText }

    /// Whether audit records were refused because records before them are missing from the store.
    public var isAuditGap: Bool { code == .auditGap }

    /// Whether audit records were refused because they contradict the stored chain.
    public var isAuditConflict: Bool { code == .auditConflict }

    /// A bounded short form for metric labels, for example `step`.
    public var metricLabel: String {
        switch code {
        case .open: "open"
        case .prepare: "prepare"
        case .step: "step"
        case .bind: "bind"
        case .migration: "migration"
        case .corruptRow: "corrupt_row"
        case .conflict: "conflict"
        case .unavailable: "unavailable"
        case .database: "database"
        case .invalidText: "invalid_text"
        case .auditGap: "audit_gap"
        case .auditConflict: "audit_conflict"
        case .configuration: "configuration"
        case .encryption: "encryption"
        }
    }

    public var description: String {
        var text = "StoreError(\(metricLabel), operation: \(operation)"
        if sqliteCode != 0 { text += ", sqlite: \(sqliteCode)" }
        if !sqlState.isEmpty { text += ", sqlstate: \(sqlState)" }
        if !connectionMessage.isEmpty { text += ", \(connectionMessage)" }
        return text + ")"
    }

    public static func == (lhs: StoreError, rhs: StoreError) -> Bool {
        lhs.code == rhs.code && lhs.sqliteCode == rhs.sqliteCode && lhs.sqlState == rhs.sqlState
    }

    /// SQLSTATE classes and codes after which the same request may succeed later.
    static func isTransient(_ sqlState: String) -> Bool {
        let transientClasses = ["08", "53", "57", "58"]
        let transientCodes: Set<String> = ["40001", "40P01", "55P03", "25P03", "55006"]
        return transientClasses.contains { sqlState.hasPrefix($0) } || transientCodes.contains(sqlState)
    }

    private static func firstLine(_ message: String) -> String {
        let line = message.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).first.map(String.init) ?? ""
        return String(line.utf8.prefix(300)) ?? ""
    }
}
