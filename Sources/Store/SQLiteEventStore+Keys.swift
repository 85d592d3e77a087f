extension SQLiteEventStore {
    /// The store's subject-hash key: remembered, or read (and recorded, the first time) in a write transaction of
    /// its own, which `BEGIN IMMEDIATE` serialises with other processes' appends and erasures.
    func subjectHashKey(_ encryption: EventEncryption) throws -> SubjectHashKey {
        if let key = encryption.cachedSubjectHashKey { return key }
        let now = clock.unixNanoseconds() / 1000
        let key = try writeTransaction { db in
            var stored: WrappedKey?
            try db.query(
                "SELECT wrapped_key, master_key_id FROM subject_keys WHERE key_id = ?", [.text(SubjectHashKey.keyID)]
            ) { row in
                guard let master = row.text(1) else { throw StoreError.corruptRow }
                stored = WrappedKey(wrapped: row.text(0), masterKeyID: master)
            }
            return try encryption.subjectHashKey(
                stored: stored, liveMasterKeyIDs: { try Self.liveMasterKeyIDs(db) },
                record: { wrapped, masterKeyID in
                    try db.query(
                        "INSERT INTO subject_keys (key_id, subject_hash, master_key_id, wrapped_key, created_at) "
                            + "VALUES (?, ?, ?, ?, ?)",
                        [
                            .text(SubjectHashKey.keyID), .text(SubjectHashKey.rowHash), .text(masterKeyID),
                            .text(wrapped), .integer(now),
                        ])
                })
        }
        encryption.remember(key)
        return key
    }

    public func masterKeyIDsInUse() throws -> Set<String> {
        try writer.withLock { db in try Self.liveMasterKeyIDs(db) }
    }

    public func rewrapKeys(batchSize: Int) throws -> MasterKeyRotation {
        let rotation = try MasterKeyRotation.run(
            batchSize: batchSize, encryption: encryption, inUse: masterKeyIDsInUse,
            recordHashKey: { _ = try subjectHashKey($0) },
            batch: { after, encryption, previous in
                try writeTransaction { db in
                    var keys: [(keyID: String, wrapped: String)] = []
                    try db.query(
                        "SELECT key_id, wrapped_key FROM subject_keys WHERE master_key_id = ? "
                            + "AND wrapped_key IS NOT NULL AND key_id > ? ORDER BY key_id LIMIT ?",
                        [.text(previous.id), .text(after), .integer(Int64(batchSize))]
                    ) { row in
                        guard let keyID = row.text(0), let wrapped = row.text(1) else { throw StoreError.corruptRow }
                        keys.append((keyID, wrapped))
                    }
                    let (rewrapped, batch) = try encryption.rewrapBatch(keys)
                    for key in rewrapped {
                        try db.query(
                            "UPDATE subject_keys SET wrapped_key = ?, master_key_id = ? "
                                + "WHERE key_id = ? AND master_key_id = ? AND wrapped_key IS NOT NULL",
                            [.text(key.wrapped), .text(encryption.masterKey.id), .text(key.keyID), .text(previous.id)])
                    }
                    return batch
                }
            },
            counts: { current, previous in
                try writer.withLock { db in
                    var counts = (current: 0, previous: 0)
                    try db.query(
                        "SELECT master_key_id, count(*) FROM subject_keys WHERE wrapped_key IS NOT NULL "
                            + "GROUP BY master_key_id"
                    ) { row in
                        if row.text(0) == current { counts.current = Int(row.integer(1)) }
                        if row.text(0) == previous { counts.previous = Int(row.integer(1)) }
                    }
                    return counts
                }
            })
        // Rewritten pages of the wrapped keys may linger in the write-ahead log: fold it in, as erasure does.
        _ = try? writer.withLock { db in try db.scalarText("PRAGMA wal_checkpoint(TRUNCATE)") }
        return rotation
    }

    /// Runs `body` on the writer inside `BEGIN IMMEDIATE` … `COMMIT`; rolls back when it throws.
    func writeTransaction<R>(_ body: (SQLiteConnection) throws -> R) throws -> R {
        try writer.withLock { db in
            try db.execute("BEGIN IMMEDIATE")
            do {
                let result = try body(db)
                try db.execute("COMMIT")
                return result
            } catch {
                try? db.execute("ROLLBACK")
                throw error
            }
        }
    }

    private static func liveMasterKeyIDs(_ db: SQLiteConnection) throws -> Set<String> {
        var ids: Set<String> = []
        try db.query("SELECT DISTINCT master_key_id FROM subject_keys WHERE wrapped_key IS NOT NULL") { row in
            if let id = row.text(0) { ids.insert(id) }
        }
        return ids
    }
}
