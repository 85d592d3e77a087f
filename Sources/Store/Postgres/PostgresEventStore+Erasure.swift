extension PostgresEventStore {
    /// On PostgreSQL the overwritten rows and destroyed keys leave dead tuples until VACUUM reclaims them; they
    /// are unreachable by any query or backup (`portal backup` exports live rows), see docs/encryption-at-rest.md.
    public func eraseSubject(_ subjectID: String, actor: String) throws -> SubjectErasure {
        guard let encryption else { throw StoreError.noMasterKey }
        let subjectHash = try subjectHashKey(encryption).hash(subjectID)
        let now = clock.unixNanoseconds() / 1000
        let recordID = EventID.make()
        let (keyIDs, events) = try pool.withConnection { connection, deadline in
            try connection.transaction(deadline: deadline) { () throws -> ([String], Int) in
                // Under the append lock: no append can pick up a key this erasure is destroying.
                _ = try connection.query(
                    "SELECT pg_advisory_xact_lock($1::int, $2::int)",
                    [.integer(Self.appendLock.0), .integer(Self.appendLock.1)], deadline: deadline)
                let keys = try connection.query(
                    "UPDATE mcp_documents.subject_keys SET wrapped_key = NULL, destroyed_at = "
                        + "TIMESTAMPTZ 'epoch' + $1::bigint * INTERVAL '1 microsecond' "
                        + "WHERE subject_hash = $2 AND destroyed_at IS NULL RETURNING key_id",
                    [.integer(now), .text(subjectHash)], deadline: deadline)
                // The rows too, plaintext ones written before encryption included; the aggregate id named the
                // subject, so it becomes the row's own id.
                let events = try connection.query(
                    "UPDATE mcp_documents.events SET payload = 'null'::json, metadata = 'null'::json, format = $1, "
                        + "key_id = NULL, aggregate_id = 'erased:' || id::text WHERE aggregate_id = $2 "
                        + "RETURNING sequence",
                    [.integer(EventFormat.erased.rawValue), .text(subjectID)], deadline: deadline)
                let aggregateID = "subject:" + subjectHash
                _ = try connection.query(
                    "INSERT INTO mcp_documents.events (id, event_type, aggregate_type, aggregate_id, payload, "
                        + "metadata, created_at, version, format) SELECT $1::uuid, $2, $3, $4::text, $5::json, "
                        + "'{}'::json, TIMESTAMPTZ 'epoch' + $6::bigint * INTERVAL '1 microsecond', "
                        + "COALESCE(MAX(version), 0) + 1, $7 FROM mcp_documents.events WHERE aggregate_id = $4::text",
                    [
                        .text(recordID), .text(SubjectErasure.recordType), .text(SubjectErasure.recordAggregateType),
                        .text(aggregateID),
                        .text(
                            SubjectErasure.recordPayload(
                                subjectHash: subjectHash, actor: actor, keys: keys.count, events: events.count)),
                        .integer(now), .integer(EventFormat.plaintext.rawValue),
                    ], deadline: deadline)
                return ((0..<keys.count).map { keys.text($0, 0) ?? "" }, events.count)
            }
        }
        encryption.cache.destroy(keyIDs)
        return SubjectErasure(
            subjectHash: subjectHash, destroyedKeys: keyIDs.count, erasedEvents: events, recordID: recordID)
    }
}
