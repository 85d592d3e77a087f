/// What re-wrapping a store's keys under the current master key did (`EventStore.rewrapKeys(batchSize:)`).
public struct MasterKeyRotation: Sendable, Equatable {
    /// Live keys (data keys and the store's subject-hash key) moved from the previous master key to the current
    /// one by this call; 0 when an earlier run did them all.
    public var rewrappedKeys: Int
    /// Transactions that committed re-wrapped keys.
    public var batches: Int
    /// Live keys wrapped by the current master key afterwards, the subject-hash key included.
    public var currentKeys: Int
    /// Live keys still wrapped by the previous master key afterwards: 0 once the call returns, unless another
    /// process wrote some meanwhile (one that runs without the current key).
    public var previousKeys: Int

    public init(rewrappedKeys: Int, batches: Int, currentKeys: Int, previousKeys: Int) {
        self.rewrappedKeys = rewrappedKeys
        self.batches = batches
        self.currentKeys = currentKeys
        self.previousKeys = previousKeys
    }
}
