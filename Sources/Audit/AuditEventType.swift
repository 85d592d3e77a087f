/// What kind of security decision an audit record describes; extensible by adding constants.
public struct AuditEventType: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: String

    /// A type by its dotted name, for kinds beyond the constants below.
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let authSuccess = AuditEventType(rawValue: "auth.success")
    public static let authFailure = AuditEventType(rawValue: "auth.failure")
    public static let authzDenied = AuditEventType(rawValue: "authz.denied")
    public static let rateLimitExceeded = AuditEventType(rawValue: "ratelimit.exceeded")
    public static let banAdded = AuditEventType(rawValue: "ban.added")
    public static let keyCreated = AuditEventType(rawValue: "key.created")
    public static let keyRotated = AuditEventType(rawValue: "key.rotated")
    public static let keyRevoked = AuditEventType(rawValue: "key.revoked")
    public static let banLifted = AuditEventType(rawValue: "ban.lifted")
    public static let tokenIssued = AuditEventType(rawValue: "token.issued")
    public static let tokenRevoked = AuditEventType(rawValue: "token.revoked")
    /// A spent refresh token came back: its family was revoked.
    public static let refreshReplayed = AuditEventType(rawValue: "token.refresh_replayed")
    public static let configReloaded = AuditEventType(rawValue: "config.reloaded")
    public static let dataErased = AuditEventType(rawValue: "data.erased")
    /// A retention purge deleted (or failed to delete) one event type's events older than its maximum age.
    public static let dataPurged = AuditEventType(rawValue: "data.purged")

    public var description: String { rawValue }
}

/// How a decision came out.
public enum AuditOutcome: String, Sendable, Hashable {
    case success
    case failure
    case denied
}

/// Which records an `AuditLog` keeps.
public enum AuditLevel: String, Sendable, Hashable {
    /// Every security decision (`AUDIT_LOG_LEVEL=INFO`, the default).
    case info = "INFO"
    /// Only failures and denials (`AUDIT_LOG_LEVEL=WARNING`).
    case warning = "WARNING"

    /// Whether a record with `outcome` is kept at this level.
    public func admits(_ outcome: AuditOutcome) -> Bool {
        switch self {
        case .info: true
        case .warning: outcome != .success
        }
    }
}
