/// When the audit file is retired and a new one begun, and how long retired files are kept.
///
/// The chain continues across files; retired files are compressed with zlib (see `AuditRetiredFiles`).
public struct AuditRotation: Sendable, Equatable {
    /// `AUDIT_FILE_MAX_BYTES`: rotate once the file holds at least this many bytes; nil: never by size.
    public var maxBytes: UInt64?
    /// `AUDIT_FILE_MAX_AGE_SECONDS`: rotate once the writer has been on the file this long; nil: never by age.
    public var maxAgeSeconds: Int64?
    /// `AUDIT_RETENTION_DAYS`: delete retired files last modified longer ago; nil: keep them all.
    public var retentionDays: Int?
    /// Rotate only once the store sink acknowledged every record of the file, so that the shipper never has to
    /// read a retired file. Set when the store sink is on.
    public var waitForStore: Bool

    public init(
        maxBytes: UInt64? = nil, maxAgeSeconds: Int64? = nil, retentionDays: Int? = nil, waitForStore: Bool = false
    ) {
        self.maxBytes = maxBytes
        self.maxAgeSeconds = maxAgeSeconds
        self.retentionDays = retentionDays
        self.waitForStore = waitForStore
    }
}
