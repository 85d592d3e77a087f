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
