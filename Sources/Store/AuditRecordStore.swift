/// Durable, append-only storage of audit records shipped by gateways, behind which SQLite or PostgreSQL sits.
///
/// Each gateway (a *source*, named by its stable instance id) has its own hash chain. The store keeps every
/// source's chain whole: a batch must continue the stored chain exactly (sequence `head + 1`, `prev_hash`
/// equal to the stored head's hash) and be linked within itself. Records already stored are accepted again
/// only when they are identical (same hash), and then nothing is inserted: a replay after a lost answer
/// inserts nothing twice. Stored records can be neither updated nor deleted (triggers refuse it).
///
/// Every method may block on disk or network: call them off any event loop thread.
public protocol AuditRecordStore: Sendable {
    /// Appends the records of `batch` that are not stored yet, in one transaction.
    /// - Throws: `StoreError` with `isAuditGap` when records before the batch are missing,
    ///   with `isAuditConflict` when the batch contradicts the stored chain, or another `StoreError`.
    func appendAuditRecords(_ batch: AuditBatch) throws -> AuditAppendResult

    /// The last stored record of `source`, or nil when none is stored.
    func auditHead(source: String) throws -> AuditHead?

    /// Stored records of `source` with a sequence greater than `afterSequence`, in order, at most `limit`.
    func auditRecords(source: String, afterSequence: Int64, limit: Int) throws -> [StoredAuditRecord]

    /// Stored records of every source that match `query`, in (source, sequence) order, one page at a time.
    func searchAuditRecords(_ query: AuditQuery) throws -> AuditRecordPage
}

/// One audit record as the store keeps it: the fields for queries, and the sealed line as written, whose
/// bytes the chain hash covers, so that the stored trail can be verified with the chain key.
public struct StoredAuditRecord: Sendable, Equatable {
    public var sequence: Int64
    /// When the gateway recorded it, in microseconds since the Unix epoch.
    public var timeMicroseconds: Int64
    public var type: String
    public var outcome: String
    public var requestID: String?
    public var clientAddress: String?
    public var subject: String?
    public var route: String?
    public var reason: String?
    public var tokenFingerprint: String?
    public var prevHash: String
    public var hash: String
    /// The sealed JSON line as the gateway wrote it, without its newline.
    public var line: String

    /// A record from its fields.
    public init(
        sequence: Int64, timeMicroseconds: Int64, type: String, outcome: String, requestID: String?,
        clientAddress: String?, subject: String?, route: String?, reason: String?, tokenFingerprint: String?,
        prevHash: String, hash: String, line: String
    ) {
        self.sequence = sequence
        self.timeMicroseconds = timeMicroseconds
        self.type = type
        self.outcome = outcome
        self.requestID = requestID
        self.clientAddress = clientAddress
        self.subject = subject
        self.route = route
        self.reason = reason
        self.tokenFingerprint = tokenFingerprint
        self.prevHash = prevHash
        self.hash = hash
        self.line = line
    }
}

/// Consecutive records of one source, in sequence order.
public struct AuditBatch: Sendable, Equatable {
    /// The gateway's instance id.
    public var source: String
    public var records: [StoredAuditRecord]

    /// - Precondition: `records` is not empty.
    public init(source: String, records: [StoredAuditRecord]) {
        precondition(!records.isEmpty, "an audit batch holds at least one record")
        self.source = source
        self.records = records
    }
}

/// The last stored record of a source.
public struct AuditHead: Sendable, Equatable {
    public var sequence: Int64
    public var hash: String

    /// A head from its fields.
    public init(sequence: Int64, hash: String) {
        self.sequence = sequence
        self.hash = hash
    }
}

/// What an append did.
public struct AuditAppendResult: Sendable, Equatable {
    /// Records newly stored.
    public var inserted: Int
    /// Records of the batch that were already stored, identical.
    public var duplicates: Int
    /// The source's last stored sequence after the append.
    public var lastSequence: Int64

    /// A result from its counts.
    public init(inserted: Int, duplicates: Int, lastSequence: Int64) {
        self.inserted = inserted
        self.duplicates = duplicates
        self.lastSequence = lastSequence
    }
}

/// How a batch meets the stored chain: which records to compare with stored ones, which to insert.
///
/// The same rules for every store, so SQLite and PostgreSQL accept and refuse exactly the same batches.
struct AuditBatchPlan {
    /// Records at or below the stored head: each must equal the stored record of its sequence.
    let replayed: ArraySlice<StoredAuditRecord>
    /// Records above the stored head, to insert.
    let fresh: ArraySlice<StoredAuditRecord>

    /// - Throws: `StoreError.auditConflict` when the batch is not consecutive and linked, or does not link to
    ///   the head; `StoreError.auditGap` when it starts past `head + 1`.
    init(batch: AuditBatch, head: AuditHead?) throws {
        let records = batch.records
        for (previous, next) in zip(records, records.dropFirst()) {
            guard next.sequence == previous.sequence + 1, next.prevHash == previous.hash else {
                throw StoreError.auditConflict
            }
        }
        let headSequence = head?.sequence ?? 0
        guard let first = records.first, first.sequence >= 1 else { throw StoreError.auditConflict }
        guard first.sequence <= headSequence + 1 else { throw StoreError.auditGap }
        let split = records.firstIndex { $0.sequence > headSequence } ?? records.endIndex
        replayed = records[..<split]
        fresh = records[split...]
        // The first new record must hang off the stored head, or start the chain from the genesis hash.
        if let firstFresh = fresh.first {
            let expected = head?.hash ?? String(repeating: "0", count: 64)
            guard firstFresh.prevHash == expected else { throw StoreError.auditConflict }
        }
    }

    /// Checks the replayed records against the stored hashes of the same sequences, in order.
    func checkReplayed(storedHashes: [Int64: String]) throws {
        for record in replayed where storedHashes[record.sequence] != record.hash {
            throw StoreError.auditConflict
        }
    }
}
