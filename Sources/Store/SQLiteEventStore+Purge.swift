extension SQLiteEventStore: EventPurging {
    public func purgeEvents(_ types: EventTypeSelection, createdBefore cutoffMicroseconds: Int64) throws -> Int {
        var filter = "created_at < ?"
        var bindings: [SQLiteValue] = [.integer(cutoffMicroseconds)]
        switch types {
        case .only(let type):
            filter += " AND event_type = ?"
            bindings.append(.text(type))
        case .allExcept(let kept) where !kept.isEmpty:
            filter +=
                " AND event_type NOT IN (" + Array(repeating: "?", count: kept.count).joined(separator: ", ") + ")"
            bindings += kept.map { .text($0) }
        case .allExcept:
            break
        }
        let sql =
            "DELETE FROM events WHERE sequence IN (SELECT sequence FROM events WHERE \(filter) "
            + "ORDER BY sequence LIMIT \(purgeBatchSize)) RETURNING 1"
        var total = 0
        while true {
            var deleted = 0
            try writer.withLock { db in try db.query(sql, bindings) { _ in deleted += 1 } }
            total += deleted
            if deleted < purgeBatchSize { return total }
        }
    }
}
