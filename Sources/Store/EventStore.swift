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

    /// Throws unless the store can answer a trivial query now; for readiness probes.
    func ping() throws
}
