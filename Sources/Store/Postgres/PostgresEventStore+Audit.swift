/// Audit records in `mcp_documents.audit_records`, one chain per source.
extension PostgresEventStore: AuditRecordStore {
    /// Rows per multi-row INSERT: 32 rows of 14 values stay far below the protocol's 65 535 parameters.
    private static let insertChunk = 32
    private static let auditColumns =
        "sequence, (EXTRACT(EPOCH FROM recorded_at) * 1000000)::bigint, type, outcome, request_id, "
        + "client_address, subject, route, reason, token_fingerprint, prev_hash, hash, line"

    public func appendAuditRecords(_ batch: AuditBatch) throws -> AuditAppendResult {
        try pool.withConnection { connection, deadline in
            try connection.transaction(deadline: deadline) {
                // One writer per source at a time; other sources' chains proceed in parallel.
                _ = try connection.query(
                    "SELECT pg_advisory_xact_lock($1::int, hashtext($2))", [.integer(0x5350), .text(batch.source)],
                    deadline: deadline)
                let head = try Self.head(of: batch.source, on: connection, deadline: deadline)
                let plan = try AuditBatchPlan(batch: batch, head: head)
                if let first = plan.replayed.first, let last = plan.replayed.last {
                    let rows = try connection.query(
                        "SELECT sequence, hash FROM mcp_documents.audit_records "
                            + "WHERE source_id = $1 AND sequence BETWEEN $2 AND $3",
                        [.text(batch.source), .integer(first.sequence), .integer(last.sequence)], deadline: deadline)
                    var stored: [Int64: String] = [:]
                    for row in 0..<rows.count { stored[try rows.integer(row, 0)] = rows.text(row, 1) }
                    try plan.checkReplayed(storedHashes: stored)
                }
                var remaining = plan.fresh[...]
                while !remaining.isEmpty {
                    let size = remaining.count >= Self.insertChunk ? Self.insertChunk : 1
                    try insert(Array(remaining.prefix(size)), source: batch.source, on: connection, deadline: deadline)
                    remaining = remaining.dropFirst(size)
                }
                return AuditAppendResult(
                    inserted: plan.fresh.count, duplicates: plan.replayed.count,
                    lastSequence: plan.fresh.last?.sequence ?? head?.sequence ?? 0)
            }
        }
    }

    public func auditHead(source: String) throws -> AuditHead? {
        try pool.withConnection { connection, deadline in
            try Self.head(of: source, on: connection, deadline: deadline)
        }
    }

    public func auditRecords(source: String, afterSequence: Int64, limit: Int) throws -> [StoredAuditRecord] {
        let rows = try pool.withConnection { connection, deadline in
            try connection.query(
                "SELECT \(Self.auditColumns) FROM mcp_documents.audit_records "
                    + "WHERE source_id = $1 AND sequence > $2 ORDER BY sequence LIMIT $3",
                [.text(source), .integer(afterSequence), .integer(Int64(max(0, limit)))], deadline: deadline)
        }
        return try (0..<rows.count).map { row in try Self.record(rows, row) }
    }

    public func searchAuditRecords(_ query: AuditQuery) throws -> AuditRecordPage {
        let (clause, values) = query.whereClause(
            { "$\($0)" }, time: { "(TIMESTAMPTZ 'epoch' + \($0)::bigint * INTERVAL '1 microsecond')" })
        let limit = "$\(values.count + 1)"
        let rows = try pool.withConnection { connection, deadline in
            try connection.query(
                "SELECT \(Self.auditColumns), source_id FROM mcp_documents.audit_records\(clause) "
                    + "ORDER BY source_id, sequence LIMIT \(limit)",
                values.map(Self.value) + [.integer(Int64(query.limit) + 1)], deadline: deadline)
        }
        let found = try (0..<rows.count).map { row in
            guard let source = rows.text(row, 13) else { throw StoreError.corruptRow }
            return SourcedAuditRecord(source: source, record: try Self.record(rows, row))
        }
        return AuditRecordPage(rows: found, limit: query.limit)
    }

    private static func value(_ value: AuditQueryValue) -> PostgresValue {
        switch value {
        case .integer(let number): .integer(number)
        case .text(let text): .text(text)
        }
    }

    /// The record in row `row` of `rows`, whose columns start with `auditColumns`.
    private static func record(_ rows: PostgresRows, _ row: Int) throws -> StoredAuditRecord {
        guard let type = rows.text(row, 2), let outcome = rows.text(row, 3), let prevHash = rows.text(row, 10),
            let hash = rows.text(row, 11), let line = rows.text(row, 12)
        else { throw StoreError.corruptRow }
        return StoredAuditRecord(
            sequence: try rows.integer(row, 0), timeMicroseconds: try rows.integer(row, 1), type: type,
            outcome: outcome, requestID: rows.text(row, 4), clientAddress: rows.text(row, 5),
            subject: rows.text(row, 6), route: rows.text(row, 7), reason: rows.text(row, 8),
            tokenFingerprint: rows.text(row, 9), prevHash: prevHash, hash: hash, line: line)
    }

    private static func head(
        of source: String, on connection: PostgresConnection, deadline: UInt64
    ) throws -> AuditHead? {
        let rows = try connection.query(
            "SELECT sequence, hash FROM mcp_documents.audit_records WHERE source_id = $1 "
                + "ORDER BY sequence DESC LIMIT 1", [.text(source)], deadline: deadline)
        guard rows.count == 1, let hash = rows.text(0, 1) else { return nil }
        return AuditHead(sequence: try rows.integer(0, 0), hash: hash)
    }

    /// Inserts `records` with one statement; its text holds placeholders only, never a value.
    private func insert(
        _ records: [StoredAuditRecord], source: String, on connection: PostgresConnection, deadline: UInt64
    ) throws {
        var parameters: [PostgresValue] = []
        parameters.reserveCapacity(records.count * 14)
        for record in records {
            parameters += [
                .text(source), .integer(record.sequence), .integer(record.timeMicroseconds), .text(record.type),
                .text(record.outcome), Self.optional(record.requestID), Self.optional(record.clientAddress),
                Self.optional(record.subject), Self.optional(record.route), Self.optional(record.reason),
                Self.optional(record.tokenFingerprint), .text(record.prevHash), .text(record.hash), .text(record.line),
            ]
        }
        let sql = records.count == Self.insertChunk ? Self.insertChunkSQL : Self.insertSQL(rows: records.count)
        _ = try connection.query(sql, parameters, deadline: deadline)
    }

    private static let insertChunkSQL = insertSQL(rows: insertChunk)

    /// `INSERT ... VALUES (...), (...)` for `rows` rows of 14 placeholders each.
    private static func insertSQL(rows: Int) -> String {
        var sql =
            "INSERT INTO mcp_documents.audit_records (source_id, sequence, recorded_at, type, outcome, request_id, "
            + "client_address, subject, route, reason, token_fingerprint, prev_hash, hash, line) VALUES "
        for row in 0..<rows {
            let placeholders = (1...14).map { "$\(row * 14 + $0)" }
            if row > 0 { sql += ", " }
            sql += "(\(placeholders[0]), \(placeholders[1]), "
            sql += "TIMESTAMPTZ 'epoch' + \(placeholders[2])::bigint * INTERVAL '1 microsecond', "
            sql += placeholders[3...].joined(separator: ", ") + ")"
        }
        return sql
    }

    private static func optional(_ text: String?) -> PostgresValue { text.map { .text($0) } ?? .null }
}
