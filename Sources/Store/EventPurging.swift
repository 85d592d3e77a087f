/// Which event types a retention purge takes.
public enum EventTypeSelection: Sendable, Hashable {
    /// Events of exactly this type.
    case only(String)
    /// Events of every type but these (the `"*"` rule, which yields to the types named on their own).
    case allExcept([String])
}

/// Deleting events past their retention: the one deletion the event store allows.
///
/// Blocks on disk or network: call it off any event loop thread. Deletes in batches of `batchSize` rows, each
/// its own transaction, so a large purge never holds a long lock and an interrupted one keeps what it did.
public protocol EventPurging: Sendable {
    /// Deletes the events of `types` created before `cutoffMicroseconds` (Unix time).
    /// - Returns: how many were deleted.
    /// - Throws: `StoreError` when a batch did not commit (earlier batches stay deleted).
    func purgeEvents(_ types: EventTypeSelection, createdBefore cutoffMicroseconds: Int64) throws -> Int
}

/// Rows one purge statement deletes at most.
let purgeBatchSize = 5_000
