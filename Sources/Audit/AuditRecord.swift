import Crypto

/// One security decision, as written to the audit trail.
///
/// Holds no secrets: a credential appears only as `tokenFingerprint`, made by
/// `AuditRecord.fingerprint(of:)`. `time`, `sequence`, `prevHash` and `hash` are assigned by
/// `AuditLog`; values set by the caller are replaced. Each text field is cut to at most
/// `maxFieldBytes` UTF-8 bytes when serialised, so hostile input cannot grow a line without bound.
public struct AuditRecord: Sendable, Equatable {
    /// The longest a text field is written, in UTF-8 bytes: 1024.
    public static let maxFieldBytes = 1024

    /// Microseconds since the Unix epoch; written as RFC 3339 UTC with microseconds.
    public var timeMicroseconds: Int64 = 0
    /// 1 for the first record of a file, then one more per record.
    public var sequence: UInt64 = 0
    public var type: AuditEventType
    public var outcome: AuditOutcome
    public var requestID: String?
    public var clientAddress: String?
    /// Who the decision was about: a consumer or key id, never the credential itself.
    public var subject: String?
    /// The route template, not the raw path.
    public var route: String?
    public var reason: String?
    /// The first 16 hex digits of the credential's SHA-256; see `fingerprint(of:)`.
    public var tokenFingerprint: String?
    /// The previous record's `hash`, or 64 zeros for a file's first record.
    public var prevHash: String = AuditRecord.genesisHash
    /// HMAC-SHA256 (key `AUDIT_HMAC_KEY`), in hex, of this record's canonical line without the hash field.
    public var hash: String = ""

    /// The `prevHash` of a file's first record.
    public static let genesisHash = String(repeating: "0", count: 64)

    /// A record to pass to `AuditLog.record(_:)`; optional fields left nil are written as `null`.
    public init(
        type: AuditEventType, outcome: AuditOutcome, requestID: String? = nil, clientAddress: String? = nil,
        subject: String? = nil, route: String? = nil, reason: String? = nil, tokenFingerprint: String? = nil
    ) {
        self.type = type
        self.outcome = outcome
        self.requestID = requestID
        self.clientAddress = clientAddress
        self.subject = subject
        self.route = route
        self.reason = reason
        self.tokenFingerprint = tokenFingerprint
    }

    /// A short, non-reversible name for a credential: the first 16 lower-case hex digits
    /// of its SHA-256. Lets operators correlate uses of one token without storing it.
    public static func fingerprint(of credential: some StringProtocol) -> String {
        String(Digest.hex(Digest.sha256(Array(credential.utf8))).prefix(16))
    }
}
