extension SQLiteEventStore {
    public func eraseSubject(_ subjectID: String, actor: String) throws -> SubjectErasure {
        guard let encryption else { throw StoreError.noMasterKey }
        let subjectHash = try subjectHashKey(encryption).hash(subjectID)
        let now = clock.unixNanoseconds() / 1000
        let recordID = EventID.make()
        let (keyIDs, events) = try writer.withLock { db -> ([String], Int) in
            try db.immediateTransaction { db in
                // Crypto-shredding: the wrapped keys go first, and with them every copy of the ciphertext's use.
                var keyIDs: [String] = []
                try db.query(
                    "UPDATE subject_keys SET wrapped_key = NULL, destroyed_at = ? "
                        + "WHERE subject_hash = ? AND destroyed_at IS NULL RETURNING key_id",
                    [.integer(now), .text(subjectHash)]
                ) { row in keyIDs.append(row.text(0) ?? "") }
                // The rows too, plaintext ones written before encryption included; the aggregate id named the
                // subject, so it becomes the row's own id.
                var events = 0
                try db.query(
                    "UPDATE events SET payload = 'null', metadata = 'null', format = ?, key_id = NULL, "
                        + "aggregate_id = 'erased:' || id WHERE aggregate_id = ? RETURNING sequence",
                    [.integer(EventFormat.erased.rawValue), .text(subjectID)]
                ) { _ in events += 1 }
                try Self.appendRecord(
                    id: recordID, subjectHash: subjectHash, actor: actor, keys: keyIDs.count, events: events,
                    now: now, db)
                return (keyIDs, events)
            }
        }
        encryption.cache.destroy(keyIDs)
        // Old page images in the write-ahead log may still hold the wrapped keys: fold it into the file (whose
        // freed space secure_delete zeroed) and empty it. Best effort: a reader holding a snapshot delays it.
        _ = try? writer.withLock { db in try db.scalarText("PRAGMA wal_checkpoint(TRUNCATE)") }
        return SubjectErasure(
            subjectHash: subjectHash, destroyedKeys: keyIDs.count, erasedEvents: events, recordID: recordID)
    }

    /// Appends the `subject.erased` record, in plaintext: it holds nothing personal.
    private static func appendRecord(
        id: String, subjectHash: String, actor: String, keys: Int, events: Int, now: Int64, _ db: SQLiteConnection
    ) throws {
        let aggregateID = "subject:" + subjectHash
        try db.query(
            "INSERT INTO events (id, event_type, aggregate_type, aggregate_id, payload, metadata, created_at, "
                + "version, format) SELECT ?, ?, ?, ?, ?, '{}', ?, COALESCE(MAX(version), 0) + 1, ? "
                + "FROM events WHERE aggregate_id = ?",
            [
                .text(id), .text(SubjectErasure.recordType), .text(SubjectErasure.recordAggregateType),
                .text(aggregateID),
                .text(SubjectErasure.recordPayload(subjectHash: subjectHash, actor: actor, keys: keys, events: events)),
                .integer(now), .integer(EventFormat.plaintext.rawValue), .text(aggregateID),
            ])
    }
}
