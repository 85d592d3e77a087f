/// Durable, append-only storage of events, behind which SQLite or PostgreSQL can sit.
///
/// Every method may block on disk or network: call them off any event loop thread.
public protocol EventStore: Sendable {
    /// Appends `event` durably and returns it as stored.
    ///
    /// The version is computed inside the write transaction, so concurrent appends to one
    /// aggregate get distinct, consecutive versions.
    /// - Throws: `StoreError` when the write did not commit.
    func append(_ event: NewEvent) throws -> StoredEvent

    /// The event with this id, or nil.
    func event(id: String) throws -> StoredEvent?

    /// Events matching `query`, in increasing sequence order.
    func list(_ query: EventQuery) throws -> EventPage

    /// Erases a subject (crypto-shredding): destroys its data keys, overwrites the payload and metadata of its
    /// events with JSON `null`, replaces their aggregate id, and appends a `subject.erased` event that names the
    /// subject only by its keyed hash. One transaction; idempotent (a second call finds nothing left to erase).
    /// - Parameters:
    ///   - subjectID: the subject, which is the aggregate id of its events.
    ///   - actor: who asked (a consumer id, or `cli`); kept in the erasure record.
    /// - Throws: `StoreError` (`noMasterKey` when the store was opened without encryption).
    func eraseSubject(_ subjectID: String, actor: String) throws -> SubjectErasure

    /// The ids of the master keys that wrap the live (not erased) data keys, so that a start with another master
    /// key is refused instead of answering every sealed read with an error.
    func masterKeyIDsInUse() throws -> Set<String>

    /// Master-key rotation: re-wraps every live key that the previous master key wrapped (the subject's data
    /// keys and the store's subject-hash key) under the current one, `batchSize` keys per transaction. Keys and
    /// subject hashes stay the same, so data layers that hold both master keys read and write throughout.
    /// Idempotent, and safe to interrupt: each batch commits whole, and a second call re-wraps what is left. A key
    /// that does not open under the previous master key is skipped and named in `skippedKeyIDs`; the rest move.
    /// A store without any live key records nothing and moves nothing.
    /// - Parameter batchSize: the most keys read for re-wrapping in one transaction.
    /// - Throws: `StoreError` (`noMasterKey` when the store was opened without encryption or without a previous
    ///   master key, `wrongMasterKey` when it holds keys of a third one, `undecryptable` when the store's
    ///   subject-hash key does not open); the batches committed before the failure stay re-wrapped.
    /// - Precondition: `batchSize` is at least 1.
    func rewrapKeys(batchSize: Int) throws -> MasterKeyRotation

    /// Throws unless the store can answer a trivial query now; for readiness probes.
    func ping() throws
}
