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
        precondition(batchSize >= 1, "a batch re-wraps at least one key")
        guard let encryption, let previous = encryption.previousMasterKey else { throw StoreError.noMasterKey }
        let inUse = try masterKeyIDsInUse()
        guard inUse.isSubset(of: encryption.masterKeyIDs) else { throw StoreError.wrongMasterKey }
        // An empty store has no hashes to keep: nothing is recorded, so that its first data layer derives the
        // subject-hash key from the current master key.
        if inUse.isEmpty { return MasterKeyRotation(rewrappedKeys: 0, batches: 0, currentKeys: 0, previousKeys: 0) }
        // Recorded before anything moves: a store that never recorded it derives it from the previous key, which
        // it could no longer tell once the data keys are wrapped by the current one.
        _ = try subjectHashKey(encryption)
        var rotation = MasterKeyRotation(rewrappedKeys: 0, batches: 0, currentKeys: 0, previousKeys: 0)
        // A key-id cursor, so that a key that does not open is passed over once, not read again by every batch.
        var after = ""
        while true {
            let (read, moved, skipped) = try writeTransaction { db in
                var batch: [(keyID: String, wrapped: String)] = []
                try db.query(
                    "SELECT key_id, wrapped_key FROM subject_keys WHERE master_key_id = ? AND wrapped_key IS NOT NULL "
                        + "AND key_id > ? ORDER BY key_id LIMIT ?",
                    [.text(previous.id), .text(after), .integer(Int64(batchSize))]
                ) { row in
                    guard let keyID = row.text(0), let wrapped = row.text(1) else { throw StoreError.corruptRow }
                    batch.append((keyID, wrapped))
                }
                var skipped: [String] = []
                for key in batch {
                    guard let rewrapped = try encryption.rewrapIfOpens(key.wrapped, keyID: key.keyID) else {
                        skipped.append(key.keyID)
                        continue
                    }
                    try db.query(
                        "UPDATE subject_keys SET wrapped_key = ?, master_key_id = ? "
                            + "WHERE key_id = ? AND master_key_id = ? AND wrapped_key IS NOT NULL",
                        [.text(rewrapped), .text(encryption.masterKey.id), .text(key.keyID), .text(previous.id)])
                }
                return (batch.map(\.keyID), batch.count - skipped.count, skipped)
            }
            guard let last = read.last else { break }
            after = last
            rotation.skippedKeyIDs += skipped
            if moved > 0 {
                rotation.rewrappedKeys += moved
                rotation.batches += 1
            }
            if read.count < batchSize { break }
        }
        // Rewritten pages of the wrapped keys may linger in the write-ahead log: fold it in, as erasure does.
        _ = try? writer.withLock { db in try db.scalarText("PRAGMA wal_checkpoint(TRUNCATE)") }
        try writer.withLock { db in
            try db.query(
                "SELECT master_key_id, count(*) FROM subject_keys WHERE wrapped_key IS NOT NULL GROUP BY master_key_id"
            ) { row in
                if row.text(0) == encryption.masterKey.id { rotation.currentKeys = Int(row.integer(1)) }
                if row.text(0) == previous.id { rotation.previousKeys = Int(row.integer(1)) }
            }
        }
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
