/// Something that kept audit records from reaching the file; reported to the injected callback.
///
/// Carries the kind and an `errno`, never record contents, so it is safe to log.
public struct AuditSinkError: Error, Sendable, Equatable, CustomStringConvertible {
    private enum Kind: Sendable, Equatable {
        case open
        case write
        case sync
        case dropped
        case checkpoint
        case rotate
    }

    private let kind: Kind
    /// The `errno` of the failed call, or 0.
    public let errno: Int32

    static func open(_ errno: Int32) -> AuditSinkError { AuditSinkError(kind: .open, errno: errno) }
    static func write(_ errno: Int32) -> AuditSinkError { AuditSinkError(kind: .write, errno: errno) }
    static func sync(_ errno: Int32) -> AuditSinkError { AuditSinkError(kind: .sync, errno: errno) }
    static let dropped = AuditSinkError(kind: .dropped, errno: 0)
    static func checkpoint(_ errno: Int32) -> AuditSinkError { AuditSinkError(kind: .checkpoint, errno: errno) }
    static func rotate(_ errno: Int32) -> AuditSinkError { AuditSinkError(kind: .rotate, errno: errno) }

    /// Whether a record was discarded because the queue stayed full or the log was closed.
    public var isDrop: Bool { kind == .dropped }

    /// A bounded short form for metric labels: `open`, `write`, `sync`, `dropped`, `checkpoint` or `rotate`.
    public var metricLabel: String {
        switch kind {
        case .open: "open"
        case .write: "write"
        case .sync: "sync"
        case .dropped: "dropped"
        case .checkpoint: "checkpoint"
        case .rotate: "rotate"
        }
    }

    public var description: String { "AuditSinkError(\(metricLabel), errno: \(errno))" }
}

/// Why an audit log could not be opened.
public struct AuditLogError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A fixed explanation, without file contents.
    public let reason: String

    static let corruptTail = AuditLogError(
        reason:
            "the last line of the audit file is not a valid sealed record "
            + "(edited, or sealed under another AUDIT_HMAC_KEY)"
    )
    static let tornTailNotRepaired = AuditLogError(
        reason: "the torn last line of the audit file could not be set aside and cut off")
    static let retiredUnreadable = AuditLogError(
        reason: "a retired audit file cannot be read or does not inflate (zlib)")

    public var description: String { "AuditLogError(\(reason))" }
}
