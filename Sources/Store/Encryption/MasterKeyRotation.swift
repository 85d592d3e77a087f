/// What re-wrapping a store's keys under the current master key did (`EventStore.rewrapKeys(batchSize:)`).
public struct MasterKeyRotation: Sendable, Equatable {
    /// Live keys (data keys and the store's subject-hash key) moved from the previous master key to the current
    /// one by this call; 0 when an earlier run did them all.
    public var rewrappedKeys: Int
    /// Transactions that committed re-wrapped keys.
    public var batches: Int
    /// Live keys wrapped by the current master key afterwards, the subject-hash key included.
    public var currentKeys: Int
    /// Live keys still wrapped by the previous master key afterwards: the skipped ones, plus any another process
    /// wrote meanwhile (one that runs without the current key).
    public var previousKeys: Int
    /// The ids of the keys that name the previous master key but do not open under it (a damaged row, or one
    /// wrapped by a third key under the previous key's id), in key-id order; each run skips them and moves the
    /// rest. Key ids are random public ids, not secrets.
    public var skippedKeyIDs: [String]

    public init(rewrappedKeys: Int, batches: Int, currentKeys: Int, previousKeys: Int, skippedKeyIDs: [String] = []) {
        self.rewrappedKeys = rewrappedKeys
        self.batches = batches
        self.currentKeys = currentKeys
        self.previousKeys = previousKeys
        self.skippedKeyIDs = skippedKeyIDs
    }
}

extension MasterKeyRotation {
    /// One batch as a store read it and re-wrapped it: what `run` needs to go on.
    struct Batch {
        /// The key ids read, in key-id order (moved and skipped), so that the next batch starts after the last.
        var read: [String] = []
        /// The keys moved to the current master key in this batch's transaction.
        var moved = 0
        /// The keys that did not open under the previous master key.
        var skipped: [String] = []
    }

    /// The rotation both stores run; each supplies its own transactions and SQL.
    ///
    /// Refuses a store with keys of a third master key, records the store's subject-hash key before anything moves
    /// (a store that never recorded it derives it from the previous key, which it could no longer tell once the
    /// data keys are wrapped by the current one; an empty store records nothing, so that its first data layer
    /// derives it from the current key), then re-wraps batch after batch behind a key-id cursor, so that a key that
    /// does not open is passed over once, not read again by every batch.
    /// - Parameters:
    ///   - inUse: the master key ids of the store's live keys.
    ///   - recordHashKey: reads, and records the first time, the store's subject-hash key.
    ///   - batch: re-wraps, in one transaction, at most `batchSize` keys of the previous master key whose ids come
    ///     after the given one (empty: from the first), passing each to `rewrapBatch`.
    ///   - counts: the live keys under the current and under the previous master key afterwards.
    static func run(
        batchSize: Int, encryption: EventEncryption?, inUse: () throws -> Set<String>,
        recordHashKey: (EventEncryption) throws -> Void,
        batch: (_ after: String, _ encryption: EventEncryption, _ previous: MasterKey) throws -> Batch,
        counts: (_ current: String, _ previous: String) throws -> (current: Int, previous: Int)
    ) throws -> MasterKeyRotation {
        precondition(batchSize >= 1, "a batch re-wraps at least one key")
        guard let encryption, let previous = encryption.previousMasterKey else { throw StoreError.noMasterKey }
        let ids = try inUse()
        guard ids.isSubset(of: encryption.masterKeyIDs) else { throw StoreError.wrongMasterKey }
        var rotation = MasterKeyRotation(rewrappedKeys: 0, batches: 0, currentKeys: 0, previousKeys: 0)
        if ids.isEmpty { return rotation }
        try recordHashKey(encryption)
        var after = ""
        while true {
            let done = try batch(after, encryption, previous)
            guard let last = done.read.last else { break }
            after = last
            rotation.skippedKeyIDs += done.skipped
            if done.moved > 0 {
                rotation.rewrappedKeys += done.moved
                rotation.batches += 1
            }
            if done.read.count < batchSize { break }
        }
        (rotation.currentKeys, rotation.previousKeys) = try counts(encryption.masterKey.id, previous.id)
        return rotation
    }
}

extension EventEncryption {
    /// `keys` re-wrapped under the current master key where they open under the previous one.
    /// - Returns: the re-wrapped keys (id and new wrapped form) to write, and the batch so far (`read` and
    ///   `skipped` filled in; `moved` is the count of re-wrapped keys, true once the store writes them).
    func rewrapBatch(
        _ keys: [(keyID: String, wrapped: String)]
    ) throws -> (rewrapped: [(keyID: String, wrapped: String)], batch: MasterKeyRotation.Batch) {
        var batch = MasterKeyRotation.Batch()
        var rewrapped: [(keyID: String, wrapped: String)] = []
        for key in keys {
            batch.read.append(key.keyID)
            if let wrapped = try rewrapIfOpens(key.wrapped, keyID: key.keyID) {
                rewrapped.append((key.keyID, wrapped))
            } else {
                batch.skipped.append(key.keyID)
            }
        }
        batch.moved = rewrapped.count
        return (rewrapped, batch)
    }
}
