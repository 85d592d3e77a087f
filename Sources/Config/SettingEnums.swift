/// `PORTAL_ENV`: how strict start-up is about secrets. Default `development`.
public enum PortalEnvironment: String, Sendable, CaseIterable {
    /// Missing secrets are tolerated; the product generates ephemeral ones.
    case development
    /// Weak, default or missing secrets stop start-up.
    case production
}

/// `LOG_LEVEL`: the lowest level the operational log writes. Default `info`.
public enum LogLevel: String, Sendable, CaseIterable, Comparable {
    /// Per-request detail, for development only.
    case trace
    /// Diagnostics per request.
    case debug
    /// Lifecycle: start, stop, reload.
    case info
    /// Unusual but expected conditions.
    case notice
    /// Something degraded; the service goes on.
    case warning
    /// A failed operation.
    case error
    /// The service cannot go on.
    case critical

    private var rank: Int { Self.allCases.firstIndex(of: self) ?? 0 }

    /// Whether `lhs` is less severe than `rhs`.
    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rank < rhs.rank }
}

/// `LOG_FORMAT`: how the operational log is written. Default `json`.
public enum LogFormat: String, Sendable, CaseIterable {
    /// One JSON object per line.
    case json
    /// `key=value` text for humans at a terminal.
    case text
}

/// `AUDIT_LOG_LEVEL`: which security decisions become audit records. Default `INFO`.
public enum AuditLogLevel: String, Sendable, CaseIterable {
    /// Every security decision, allowed or denied.
    case info = "INFO"
    /// Only denials.
    case warning = "WARNING"
}

/// `TLS_CLIENT_AUTH`: whether HTTPS clients present certificates. Default `none`.
public enum TLSClientAuthSetting: String, Sendable, CaseIterable {
    /// No certificate is asked for.
    case none
    /// A certificate is asked for; one signed by `TLS_CLIENT_CA_PATH` identifies the client, none is allowed.
    case optional
    /// A certificate signed by `TLS_CLIENT_CA_PATH` is required to complete the handshake.
    case required
}
