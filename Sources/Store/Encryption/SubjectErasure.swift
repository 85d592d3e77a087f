import PortalCore

/// What erasing one subject did.
public struct SubjectErasure: Sendable, Equatable {
    /// The keyed hash that names the subject in the erasure record (see `MasterKey.subjectHash`).
    public var subjectHash: String
    /// Data keys destroyed by this call.
    public var destroyedKeys: Int
    /// Events whose payload and metadata were overwritten by this call.
    public var erasedEvents: Int
    /// The id of the `subject.erased` event that records it.
    public var recordID: String

    public init(subjectHash: String, destroyedKeys: Int, erasedEvents: Int, recordID: String) {
        self.subjectHash = subjectHash
        self.destroyedKeys = destroyedKeys
        self.erasedEvents = erasedEvents
        self.recordID = recordID
    }

    /// The event type of erasure records.
    public static let recordType = "subject.erased"
    /// The aggregate type of erasure records; their aggregate id is `subject:<hash>`.
    public static let recordAggregateType = "subject"

    /// Aggregate-id prefixes that erasure writes (`erased:<event id>` for overwritten events, `subject:<hash>` for
    /// its records). No client may append under them or erase them: a pre-made `erased:<id>` would collide with
    /// an erasure's rewrite and block it, a `subject:` id would forge or erase the evidence of erasures.
    public static let reservedAggregatePrefixes = ["erased:", "subject:"]

    /// Whether `aggregateID` starts with a prefix only erasure writes.
    public static func isReserved(aggregateID: some StringProtocol) -> Bool {
        reservedAggregatePrefixes.contains { aggregateID.hasPrefix($0) }
    }

    /// The erasure record's payload: the subject's keyed hash, the actor and the counts; nothing personal.
    static func recordPayload(subjectHash: String, actor: String, keys: Int, events: Int) -> String {
        var out: [UInt8] = Array("{\"subject_hash\":".utf8)
        JSONEscaping.appendQuoted(subjectHash, to: &out)
        out += Array(",\"actor\":".utf8)
        JSONEscaping.appendQuoted(actor, to: &out)
        out += Array(",\"data_keys_destroyed\":\(keys),\"events_erased\":\(events)}".utf8)
        return String(decoding: out, as: UTF8.self)
    }
}
