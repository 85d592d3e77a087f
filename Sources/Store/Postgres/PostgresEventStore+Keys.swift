extension PostgresEventStore {
    /// The store's subject-hash key: remembered, or read (and recorded, the first time) in a transaction of its
    /// own under the append lock, which serialises it with every data layer's appends and erasures.
    func subjectHashKey(_ encryption: EventEncryption) throws -> SubjectHashKey {
        if let key = encryption.cachedSubjectHashKey { return key }
        let now = clock.unixNanoseconds() / 1000
        let key = try lockedTransaction { connection, deadline in
            let rows = try connection.query(
                "SELECT wrapped_key, master_key_id FROM mcp_documents.subject_keys WHERE key_id = $1",
                [.text(SubjectHashKey.keyID)], deadline: deadline)
            var stored: WrappedKey?
            if rows.count == 1 {
                guard let master = rows.text(0, 1) else { throw StoreError.corruptRow }
                stored = WrappedKey(wrapped: rows.text(0, 0), masterKeyID: master)
            }
            return try encryption.subjectHashKey(
                stored: stored, liveMasterKeyIDs: { try Self.liveMasterKeyIDs(connection, deadline: deadline) },
                record: { wrapped, masterKeyID in
                    _ = try connection.query(
                        "INSERT INTO mcp_documents.subject_keys (key_id, subject_hash, master_key_id, wrapped_key, "
                            + "created_at) VALUES ($1, $2, $3, $4, "
                            + "TIMESTAMPTZ 'epoch' + $5::bigint * INTERVAL '1 microsecond')",
                        [
                            .text(SubjectHashKey.keyID), .text(SubjectHashKey.rowHash), .text(masterKeyID),
                            .text(wrapped), .integer(now),
                        ], deadline: deadline)
                })
        }
        encryption.remember(key)
        return key
    }

    /// Whether the database `pool` reaches holds a Story Portal store (its table of data keys). Asked before
    /// opening one where a missing store must not be created: opening migrates, which would make an empty one.
    public static func holdsStore(_ pool: PostgresConnectionPool) throws -> Bool {
        try pool.withConnection { connection, deadline in
            try connection.query("SELECT to_regclass('mcp_documents.subject_keys') IS NOT NULL", deadline: deadline)
                .text(0, 0) == "t"
        }
    }

    public func masterKeyIDsInUse() throws -> Set<String> {
        try pool.withConnection { connection, deadline in try Self.liveMasterKeyIDs(connection, deadline: deadline) }
    }

    /// Each batch holds the append lock while it re-wraps, so no append or erasure of any data layer interleaves
    /// with it; between batches they go on, reading keys wrapped by either master key.
    public func rewrapKeys(batchSize: Int) throws -> MasterKeyRotation {
        try MasterKeyRotation.run(
            batchSize: batchSize, encryption: encryption, inUse: masterKeyIDsInUse,
            recordHashKey: { _ = try subjectHashKey($0) },
            batch: { after, encryption, previous in
                try lockedTransaction { connection, deadline in
                    let rows = try connection.query(
                        "SELECT key_id, wrapped_key FROM mcp_documents.subject_keys "
                            + "WHERE master_key_id = $1 AND wrapped_key IS NOT NULL AND key_id > $2 "
                            + "ORDER BY key_id LIMIT $3",
                        [.text(previous.id), .text(after), .integer(Int64(batchSize))], deadline: deadline)
                    let keys = try (0..<rows.count).map { row -> (keyID: String, wrapped: String) in
                        // Both go into array literals unquoted below: key ids are hex (or the one fixed name), and
                        // wrapped keys come out base64url.
                        guard let keyID = rows.text(row, 0), isKeyID(keyID) || keyID == SubjectHashKey.keyID,
                            let wrapped = rows.text(row, 1)
                        else { throw StoreError.corruptRow }
                        return (keyID, wrapped)
                    }
                    let (rewrapped, batch) = try encryption.rewrapBatch(keys)
                    guard !rewrapped.isEmpty else { return batch }
                    // One statement for the batch, so that its round trips, and the time it holds the lock, stay few.
                    _ = try connection.query(
                        "UPDATE mcp_documents.subject_keys AS k SET wrapped_key = v.wrapped, master_key_id = $3 "
                            + "FROM unnest($1::text[], $2::text[]) AS v (key_id, wrapped) "
                            + "WHERE k.key_id = v.key_id AND k.master_key_id = $4 AND k.wrapped_key IS NOT NULL",
                        [
                            .text("{" + rewrapped.map(\.keyID).joined(separator: ",") + "}"),
                            .text("{" + rewrapped.map(\.wrapped).joined(separator: ",") + "}"),
                            .text(encryption.masterKey.id), .text(previous.id),
                        ], deadline: deadline)
                    return batch
                }
            },
            counts: { current, previous in
                let rows = try pool.withConnection { connection, deadline in
                    try connection.query(
                        "SELECT master_key_id, count(*) FROM mcp_documents.subject_keys WHERE wrapped_key IS NOT NULL "
                            + "GROUP BY master_key_id", deadline: deadline)
                }
                var counts = (current: 0, previous: 0)
                for row in 0..<rows.count {
                    if rows.text(row, 0) == current { counts.current = Int(try rows.integer(row, 1)) }
                    if rows.text(row, 0) == previous { counts.previous = Int(try rows.integer(row, 1)) }
                }
                return counts
            })
    }

    /// Runs `body` in a transaction that holds the append lock (see `appendLock`).
    func lockedTransaction<R>(_ body: (PostgresConnection, UInt64) throws -> R) throws -> R {
        try pool.withConnection { connection, deadline in
            try connection.transaction(deadline: deadline) {
                _ = try connection.query(
                    "SELECT pg_advisory_xact_lock($1::int, $2::int)",
                    [.integer(Self.appendLock.0), .integer(Self.appendLock.1)], deadline: deadline)
                return try body(connection, deadline)
            }
        }
    }

    private static func liveMasterKeyIDs(_ connection: PostgresConnection, deadline: UInt64) throws -> Set<String> {
        let rows = try connection.query(
            "SELECT DISTINCT master_key_id FROM mcp_documents.subject_keys WHERE wrapped_key IS NOT NULL",
            deadline: deadline)
        return Set((0..<rows.count).compactMap { rows.text($0, 0) })
    }
}
