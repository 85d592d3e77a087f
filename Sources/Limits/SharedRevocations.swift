import Net

/// The revoked token ids the gateway enforces: this process's `InMemoryRevocationList` alone, or a shared store
/// (Redis) beside it.
///
/// The local list always holds the revocations this gateway made, those read from the durable credential store
/// (`merge`), and, with a shared store, those it saw there; a revocation cannot be undone, so a local "revoked"
/// is final until the token's `exp`. Otherwise the shared store's per-loop cache answers (1 s by default for
/// "not revoked"), then one `PTTL`. When the store cannot answer (an error, or the circuit open), the local
/// list decides: a revocation known here still holds; one made on another gateway and never seen here is not
/// enforced until the store answers again (or, with a shared PostgreSQL credential store, until the next
/// credential refresh reads it).
public final class SharedRevocations: Sendable {
    /// This process's revocations.
    public let local: InMemoryRevocationList
    private let store: (any RevocationStore)?
    private let backend: SharedStoreBackend?

    /// Revocations in this process only.
    public init(local: InMemoryRevocationList) {
        self.local = local
        self.store = nil
        self.backend = nil
    }

    /// Revocations shared through `store`, with `local` beside it.
    public init(local: InMemoryRevocationList, store: any RevocationStore, backend: SharedStoreBackend) {
        self.local = local
        self.store = store
        self.backend = backend
    }

    /// Whether revocations are shared with other gateways.
    public var isShared: Bool { store != nil }

    /// The answer for `tokenID` without waiting, or nil when the caller must ask `isRevoked` (and then must,
    /// since it may hold the circuit's probe). Loop thread only.
    public func cachedIsRevoked(_ tokenID: String, on loop: EventLoop) -> Bool? {
        if local.isRevoked(tokenID) { return true }
        guard let store, let backend else { return false }
        if let cached = store.cachedIsRevoked(tokenID, on: loop) { return cached }
        return backend.circuit.allowsRequest() ? nil : false
    }

    /// Looks `tokenID` (a token expiring at `expiresAt`) up in the shared store; on failure the local answer
    /// stands. Completes on `loop`.
    public func isRevoked(
        _ tokenID: String, expiresAt: Int64, on loop: EventLoop, completion: @escaping @Sendable (Bool) -> Void
    ) {
        guard let store, let backend else { return completion(local.isRevoked(tokenID)) }
        store.isRevoked(tokenID, on: loop) { [self] result in
            backend.note(result, store: "revocations")
            switch result {
            case .success(let revoked):
                if revoked { local.revoke(tokenID, untilUnixSeconds: expiresAt) }
                completion(revoked)
            case .failure:
                completion(local.isRevoked(tokenID))
            }
        }
    }

    /// Revokes `tokenID` until `untilUnixSeconds`: here at once, in the shared store in the background (a
    /// failure is counted). Never blocks.
    public func revoke(_ tokenID: String, untilUnixSeconds: Int64) {
        local.revoke(tokenID, untilUnixSeconds: untilUnixSeconds)
        guard let store, let backend else { return }
        store.revoke(tokenID, untilUnixSeconds: untilUnixSeconds, on: backend.writeLoop) { result in
            backend.note(result, store: "revocations")
        }
    }

    /// Adds a durable list (the credential store's) to the local list; see `InMemoryRevocationList.merge`.
    public func merge(_ entries: [(tokenID: String, untilUnixSeconds: Int64)]) {
        local.merge(entries)
    }

    /// Revocations held in the local list (for a gauge).
    public var count: Int { local.count }
}
