import Net
import Synchronization

/// The bans the gateway enforces: this process's `BanList`, alone or mirroring a shared store (Redis).
///
/// A lookup always reads the local list: no lock while no ban is held, never a round trip. With a shared
/// store:
/// - The list mirrors the store: every `syncIntervalNanoseconds` (1 s by default) one small script call asks
///   whether the store's list changed (a version counter) and fetches it only then, so a ban or an unban made
///   on another gateway takes effect here within about that time, whatever the number of clients.
/// - A ban made here holds here at once and is written to the store in the background; one the store could
///   not take is kept here (through syncs) and written again after the next successful sync. A lift goes to
///   the store first and fails while it is away.
/// - While the store cannot answer (an error, or the circuit open after failures in a row) the mirror keeps its
///   last copy: every ban it holds stays in force until its own end, never silently lifted by an outage; bans
///   made elsewhere meanwhile are seen once the store answers again.
public final class SharedBans: Sendable {
    /// This process's bans: all of them without a shared store; with one, the mirror and the bans made here.
    public let local: BanList
    private let store: (any SharedBanStore)?
    private let backend: SharedStoreBackend?
    private let version = Atomic<Int64>(-1)
    private let stopped = Atomic<Bool>(false)
    /// Bans the store failed to take (key → reason), written again after the next sync.
    private let unsent = Mutex<[String: String]>([:])
    private let unsentCount = Atomic<Int>(0)

    /// Bans in this process only.
    public init(local: BanList) {
        self.local = local
        self.store = nil
        self.backend = nil
    }

    /// Bans shared through `store`, mirrored into `local`; the mirror starts syncing at once, on the backend's
    /// write loop, until `stop`.
    public init(local: BanList, store: any SharedBanStore, backend: SharedStoreBackend) {
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

    /// Whether bans are shared with other gateways.
    public var isShared: Bool { store != nil }

    /// Whole seconds left (at least 1) on `key`'s ban, or nil. Memory only; no lock while no ban is held.
    public func remainingSeconds(_ key: String) -> Int? { local.remainingSeconds(key) }

    /// Bans `key` for `seconds`: here at once, in the shared store in the background. Never blocks.
    /// - Returns: false when the local list is full of live bans (without a shared store, the ban is lost).
    @discardableResult
    public func ban(_ key: String, forSeconds seconds: Int, reason: String) -> Bool {
        let seconds = max(seconds, 1)
        let kept = local.ban(key, forSeconds: seconds, reason: reason)
        guard store != nil else { return kept }
        send(key, forSeconds: seconds, reason: reason)
        return true
    }

    /// Lifts `key`'s ban in the shared store, then here. Blocks on the store: never call it on a loop.
    /// - Returns: whether a live ban was lifted, or the store's error (the ban then stays everywhere).
    public func lift(_ key: String) -> Result<Bool, SharedStoreError> {
        guard let store, let backend else { return .success(local.lift(key)) }
        let shared = backend.wait { loop, done in store.lift(key, on: loop, completion: done) }
        backend.note(shared, store: "bans")
        return shared.map { lifted in
            unsent.withLock { table in
                table[key] = nil
                unsentCount.store(table.count, ordering: .relaxed)
            }
            return local.lift(key) || lifted
        }
    }

    /// The live bans, sorted by key: the shared store's, or the local list's. Blocks: never call it on a loop.
    public func list() -> Result<[BanList.Entry], SharedStoreError> {
        guard let store, let backend else { return .success(local.list()) }
        let result = backend.wait { loop, done in store.list(on: loop, completion: done) }
        backend.note(result, store: "bans")
        return result
    }

    /// Live bans in the local list (the `bans_active` gauge): with a shared store, its mirror.
    public var activeBanCount: Int { local.activeBanCount }

    /// One sync: the store's list when its version moved, then the bans it has not taken yet.
    private func sync(_ done: @escaping @Sendable () -> Void) {
        guard let store, let backend else { return done() }
        store.snapshot(ifChangedSince: version.load(ordering: .relaxed), on: backend.writeLoop) { [self] result in
            backend.note(result, store: "bans")
            if case .success(let snapshot) = result {
                if let entries = snapshot.entries {
                    let keep = unsentCount.load(ordering: .relaxed) > 0 ? unsent.withLock { Set($0.keys) } : []
                    local.replace(with: entries, keeping: keep)
                }
                version.store(snapshot.version, ordering: .relaxed)
                if unsentCount.load(ordering: .relaxed) > 0 { resendUnsent() }
            }
            done()
        }
    }

    /// Writes a ban to the store in the background; one it cannot take waits in `unsent`.
    private func send(_ key: String, forSeconds seconds: Int, reason: String) {
        guard let store, let backend else { return }
        store.ban(key, forSeconds: seconds, reason: reason, on: backend.writeLoop) { [self] result in
            backend.note(result, store: "bans")
            unsent.withLock { table in
                if case .failure = result { table[key] = reason } else { table[key] = nil }
                unsentCount.store(table.count, ordering: .relaxed)
            }
        }
    }

    /// Writes again the bans the store failed to take, for what is left of them here.
    private func resendUnsent() {
        let pending = unsent.withLock { $0 }
        for (key, reason) in pending {
            guard let seconds = local.remainingSeconds(key) else {
                unsent.withLock { table in
                    table[key] = nil
                    unsentCount.store(table.count, ordering: .relaxed)
                }
                continue
            }
            send(key, forSeconds: seconds, reason: reason)
        }
    }
}
