/// Audit records in the `audit_records` table of `events.db`, one chain per source.
extension SQLiteEventStore: AuditRecordStore {
    private static let auditColumns =
        "sequence, recorded_at, type, outcome, request_id, client_address, subject, route, reason, "
        + "token_fingerprint, prev_hash, hash, line"

    public func appendAuditRecords(_ batch: AuditBatch) throws -> AuditAppendResult {
        let receivedAt = clock.unixNanoseconds() / 1000
        return try writer.withLock { db in
            // The head is read and the rows written under one write lock, as PostgreSQL's advisory lock does.
            try db.immediateTransaction { db in
                let head = try Self.head(of: batch.source, in: db)
                let plan = try AuditBatchPlan(batch: batch, head: head)
                if let first = plan.replayed.first, let last = plan.replayed.last {
                    var stored: [Int64: String] = [:]
                    try db.query(
                        "SELECT sequence, hash FROM audit_records WHERE source_id = ? AND sequence BETWEEN ? AND ?",
                        [.text(batch.source), .integer(first.sequence), .integer(last.sequence)]
                    ) { row in stored[row.integer(0)] = row.text(1) }
                    try plan.checkReplayed(storedHashes: stored)
                }
                for record in plan.fresh {
                    try db.query(
                        "INSERT INTO audit_records (source_id, sequence, recorded_at, type, outcome, request_id, "
                            + "client_address, subject, route, reason, token_fingerprint, prev_hash, hash, line, "
                            + "received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [
                            .text(batch.source), .integer(record.sequence), .integer(record.timeMicroseconds),
                            .text(record.type), .text(record.outcome), Self.optional(record.requestID),
                            Self.optional(record.clientAddress), Self.optional(record.subject),
                            Self.optional(record.route), Self.optional(record.reason),
                            Self.optional(record.tokenFingerprint), .text(record.prevHash), .text(record.hash),
                            .text(record.line), .integer(receivedAt),
                        ])
                }
                return AuditAppendResult(
                    inserted: plan.fresh.count, duplicates: plan.replayed.count,
                    lastSequence: plan.fresh.last?.sequence ?? head?.sequence ?? 0)
            }
        }
    }

    public func auditHead(source: String) throws -> AuditHead? {
        try reader.withLock { db in try Self.head(of: source, in: db) }
    }

    public func auditRecords(source: String, afterSequence: Int64, limit: Int) throws -> [StoredAuditRecord] {
        var records: [StoredAuditRecord] = []
        try reader.withLock { db in
            try db.query(
                "SELECT \(Self.auditColumns) FROM audit_records WHERE source_id = ? AND sequence > ? "
                    + "ORDER BY sequence LIMIT ?", [.text(source), .integer(afterSequence), .integer(Int64(limit))]
            ) { row in records.append(try Self.record(row)) }
        }
        return records
    }

    public func searchAuditRecords(_ query: AuditQuery) throws -> AuditRecordPage {
        let (clause, values) = query.whereClause { _ in "?" }
        var rows: [SourcedAuditRecord] = []
        try reader.withLock { db in
            try db.query(
                "SELECT \(Self.auditColumns), source_id FROM audit_records\(clause) "
                    + "ORDER BY source_id, sequence LIMIT ?",
                values.map(Self.value) + [.integer(Int64(query.limit) + 1)]
            ) { row in
                guard let source = row.text(13) else { throw StoreError.corruptRow }
                rows.append(SourcedAuditRecord(source: source, record: try Self.record(row)))
            }
        }
        return AuditRecordPage(rows: rows, limit: query.limit)
    }

    private static func value(_ value: AuditQueryValue) -> SQLiteValue {
        switch value {
        case .integer(let number): .integer(number)
        case .text(let text): .text(text)
        }
    }

    /// The record in a row that starts with `auditColumns`.
    private static func record(_ row: SQLiteRow) throws -> StoredAuditRecord {
        guard let type = row.text(2), let outcome = row.text(3), let prevHash = row.text(10),
            let hash = row.text(11), let line = row.text(12)
        else { throw StoreError.corruptRow }
        return StoredAuditRecord(
            sequence: row.integer(0), timeMicroseconds: row.integer(1), type: type, outcome: outcome,
            requestID: row.text(4), clientAddress: row.text(5), subject: row.text(6), route: row.text(7),
            reason: row.text(8), tokenFingerprint: row.text(9), prevHash: prevHash, hash: hash, line: line)
    }

    private static func head(of source: String, in db: SQLiteConnection) throws -> AuditHead? {
        var head: AuditHead?
        try db.query(
            "SELECT sequence, hash FROM audit_records WHERE source_id = ? ORDER BY sequence DESC LIMIT 1",
            [.text(source)]
        ) { row in head = row.text(1).map { AuditHead(sequence: row.integer(0), hash: $0) } }
        return head
    }

    private static func optional(_ text: String?) -> SQLiteValue { text.map { .text($0) } ?? .null }
}
