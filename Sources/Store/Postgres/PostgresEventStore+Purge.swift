extension PostgresEventStore: EventPurging {
    public func purgeEvents(_ types: EventTypeSelection, createdBefore cutoffMicroseconds: Int64) throws -> Int {
        var filter = "created_at < TIMESTAMPTZ 'epoch' + $1::bigint * INTERVAL '1 microsecond'"
        var parameters: [PostgresValue] = [.integer(cutoffMicroseconds)]
        switch types {
        case .only(let type):
            parameters.append(.text(type))
            filter += " AND event_type = $2"
        case .allExcept(let kept) where !kept.isEmpty:
            let placeholders = kept.indices.map { "$\($0 + 2)" }.joined(separator: ", ")
            parameters += kept.map { .text($0) }
            filter += " AND event_type NOT IN (\(placeholders))"
        case .allExcept:
            break
        }
        let sql =
            "WITH gone AS (DELETE FROM mcp_documents.events WHERE sequence IN (SELECT sequence FROM "
            + "mcp_documents.events WHERE \(filter) ORDER BY sequence LIMIT \(purgeBatchSize)) RETURNING 1) "
            + "SELECT count(*) FROM gone"
        var total = 0
        while true {
            let rows = try pool.withConnection { connection, deadline in
                try connection.query(sql, parameters, deadline: deadline)
            }
            let deleted = rows.count == 1 ? Int(try rows.integer(0, 0)) : 0
            total += deleted
            if deleted < purgeBatchSize { return total }
        }
    }
}
