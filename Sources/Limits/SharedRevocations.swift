import Net
import Synchronization

/// The revoked token ids the gateway enforces: this process's `InMemoryRevocationList`, alone or mirroring a
/// shared store (Redis) as well.
///
/// A lookup always reads the local list: no lock while it is empty, never a round trip. The list holds the
/// revocations made here, those read from the durable credential store (`merge`), and, with a shared store,
/// the store's: every `syncIntervalNanoseconds` (1 s by default) one small script call asks whether the store's
/// list changed and fetches it only then, so a revocation made on another gateway takes effect here within about
/// that time. A revocation cannot be undone, so entries leave only when their token has expired. While the store
/// cannot answer, every revocation already held stays in force; one made elsewhere meanwhile is seen once the
/// store answers again (or, with a shared credential store, at the next credential refresh). A revocation the
/// store could not take is written again after the next successful sync.
public final class SharedRevocations: Sendable {
    /// This process's revocations, with the store's mirrored in.
    public let local: InMemoryRevocationList
    private let store: (any RevocationStore)?
    private let backend: SharedStoreBackend?
    private let version = Atomic<Int64>(-1)
    private let stopped = Atomic<Bool>(false)
    /// Revocations the store failed to take (id → exp), written again after the next sync.
    private let unsent = Mutex<[String: Int64]>([:])
    private let unsentCount = Atomic<Int>(0)

    /// Revocations in this process only.
    public init(local: InMemoryRevocationList) {
        self.local = local
        self.store = nil
        self.backend = nil
    }

    /// Revocations shared through `store`, mirrored into `local`; the mirror starts syncing at once, on the
    /// backend's write loop, until `stop`.
    public init(local: InMemoryRevocationList, store: any RevocationStore, backend: SharedStoreBackend) {
        self.local = local
        self.store = store
        self.backend = backend
        // Weakly held: a store nobody uses any more stops syncing.
        backend.repeatSync(isStopped: { [weak self] in self?.stopped.load(ordering: .relaxed) ?? true }) {
            [weak self] done in
            guard let self else { return done() }
            sync(done)
        }
    }

    /// Stops the mirror's syncing.
    public func stop() { stopped.store(true, ordering: .relaxed) }

    /// How long after its token's `exp` a revocation is still enforced: the verifier's leeway, in seconds.
    public var leewaySeconds: Int64 { local.leewaySeconds }

    /// Whether revocations are shared with other gateways.
    public var isShared: Bool { store != nil }

    /// Whether `tokenID` is revoked. Memory only; no lock while nothing is revoked.
    public func isRevoked(_ tokenID: String) -> Bool { local.isRevoked(tokenID) }

    /// Revokes `tokenID` until `untilUnixSeconds`: here at once, in the shared store in the background. Never
    /// blocks.
    public func revoke(_ tokenID: String, untilUnixSeconds: Int64) {
        local.revoke(tokenID, untilUnixSeconds: untilUnixSeconds)
        send(tokenID, untilUnixSeconds: untilUnixSeconds)
    }

    /// Adds a durable list (the credential store's) to the local list; see `InMemoryRevocationList.merge`.
    public func merge(_ entries: [(tokenID: String, untilUnixSeconds: Int64)]) {
        local.merge(entries)
    }

    /// Revocations held in the local list (for a gauge).
    public var count: Int { local.count }

    /// One sync: the store's list when its version moved, then the revocations it has not taken yet.
    private func sync(_ done: @escaping @Sendable () -> Void) {
        guard let store, let backend else { return done() }
        store.snapshot(ifChangedSince: version.load(ordering: .relaxed), on: backend.writeLoop) { [self] result in
            backend.note(result, store: "revocations")
            if case .success(let snapshot) = result {
                if let entries = snapshot.entries { local.merge(entries.map { ($0.key, $0.value) }) }
                version.store(snapshot.version, ordering: .relaxed)
                if unsentCount.load(ordering: .relaxed) > 0 {
                    for (tokenID, until) in unsent.withLock({ $0 }) { send(tokenID, untilUnixSeconds: until) }
                }
            }
            done()
        }
    }

    /// Writes a revocation to the store in the background; one it cannot take waits in `unsent`.
    private func send(_ tokenID: String, untilUnixSeconds: Int64) {
        guard let store, let backend else { return }
        store.revoke(tokenID, untilUnixSeconds: untilUnixSeconds, on: backend.writeLoop) { [self] result in
            backend.note(result, store: "revocations")
            unsent.withLock { table in
                if case .failure = result { table[tokenID] = untilUnixSeconds } else { table[tokenID] = nil }
                unsentCount.store(table.count, ordering: .relaxed)
            }
        }
    }
}
