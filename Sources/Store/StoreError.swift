/// A failure of an event store.
///
/// The description names the operation and SQLite's result code, never a bound value,
/// so that payloads and identifiers cannot leak into logs through an error.
public struct StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    private enum Code: Sendable, Equatable {
        case open
        case prepare
        case step
        case bind
        case migration
        case corruptRow
        case conflict
    }

    private let code: Code
    /// SQLite's primary result code, or 0 when the failure did not come from SQLite.
    public let sqliteCode: Int32
    /// A fixed, short name of what was being done, safe for logs and metric labels.
    public let operation: StaticString

    private init(_ code: Code, operation: StaticString, sqliteCode: Int32 = 0) {
        self.code = code
        self.operation = operation
        self.sqliteCode = sqliteCode
    }

    static func open(_ rc: Int32) -> StoreError { StoreError(.open, operation: "open", sqliteCode: rc) }
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

    /// Whether the database was busy or locked for longer than the busy timeout.
    public var isBusy: Bool { sqliteCode == 5 || sqliteCode == 6 }

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
        }
    }

    public var description: String {
        "StoreError(\(metricLabel), operation: \(operation), sqlite: \(sqliteCode))"
    }

    public static func == (lhs: StoreError, rhs: StoreError) -> Bool {
        lhs.code == rhs.code && lhs.sqliteCode == rhs.sqliteCode
    }
}
