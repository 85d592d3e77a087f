import Net
import Synchronization

/// The bans the gateway enforces: this process's `BanList` alone, or a shared store (Redis) in front of it.
///
/// Without a shared store every answer comes from the list. With one:
/// - A lookup is answered from the store's per-loop cache (`SharedStoreCaching`, 1 s by default), so a client
///   costs at most one `PTTL` per loop per cache time; a ban or an unban made on another gateway is seen here
///   within that time.
/// - Every ban this gateway makes or sees is also kept in the local list, until its end. When the store cannot
///   answer (an error, or the circuit open after failures in a row), lookups answer from that list at once:
///   a ban known here is never silently lifted by an outage, and a key never seen banned passes. A ban made
///   during an outage holds on this gateway, and is written to the store after its next answer; a lift needs
///   the store and fails while it is away.
/// - A store answer "not banned" also lifts the key locally, so an unban made elsewhere reaches this list too.
public final class SharedBans: Sendable {
    /// This process's bans: all of them without a shared store; with one, those made or seen here.
    public let local: BanList
    private let store: (any SharedBanStore)?
    private let backend: SharedStoreBackend?
    /// Bans the store failed to take (key → reason), written again after its next answer.
    private let unsent = Mutex<[String: String]>([:])
    private let unsentCount = Atomic<Int>(0)

    /// Bans in this process only.
    public init(local: BanList) {
        self.local = local
        self.store = nil
        self.backend = nil
    }

    /// Bans shared through `store`, with `local` as this gateway's fallback.
    public init(local: BanList, store: any SharedBanStore, backend: SharedStoreBackend) {
        self.local = local
        self.store = store
        self.backend = backend
    }

    /// Whether bans are shared with other gateways.
    public var isShared: Bool { store != nil }

    /// The answer for `key` without waiting, or nil when the caller must ask `status` (and then must, since it
    /// may hold the circuit's probe). Loop thread only; no lock and no I/O when nothing is banned.
    public func cachedStatus(_ key: String, on loop: EventLoop) -> BanStatus? {
        guard let store, let backend else { return BanStatus(remainingSeconds: local.remainingSeconds(key)) }
        if let cached = store.cachedStatus(key, on: loop) { return cached }
        guard backend.circuit.allowsRequest() else { return BanStatus(remainingSeconds: local.remainingSeconds(key)) }
        return nil
    }

    /// Looks `key` up in the shared store; on failure answers from the local list. Completes on `loop`.
    public func status(_ key: String, on loop: EventLoop, completion: @escaping @Sendable (BanStatus) -> Void) {
        guard let store, let backend else {
            return completion(BanStatus(remainingSeconds: local.remainingSeconds(key)))
        }
        store.status(key, on: loop) { [self] result in
            backend.note(result, store: "bans")
            switch result {
            case .success(let status):
                let believed = remember(key, status)
                if unsentCount.load(ordering: .relaxed) > 0 { resendUnsent() }
                completion(believed)
            case .failure:
                completion(BanStatus(remainingSeconds: local.remainingSeconds(key)))
            }
        }
    }

    /// Bans `key` for `seconds`: here at once, in the shared store in the background (a failure is counted,
    /// and the ban then holds on this gateway only). Never blocks.
    /// - Returns: false when the local list is full of live bans (without a shared store, the ban is lost).
    @discardableResult
    public func ban(_ key: String, forSeconds seconds: Int, reason: String) -> Bool {
        let seconds = max(seconds, 1)
        let kept = local.ban(key, forSeconds: seconds, reason: reason)
        guard store != nil else { return kept }
        send(key, forSeconds: seconds, reason: reason)
        return true
    }

    /// Writes a ban to the store in the background; one it cannot take waits in `unsent`.
    private func send(_ key: String, forSeconds seconds: Int, reason: String) {
        guard let store, let backend else { return }
        store.ban(key, forSeconds: seconds, reason: reason, on: backend.writeLoop) { [self] result in
            backend.note(result, store: "bans")
            guard case .failure = result else {
                if unsentCount.load(ordering: .relaxed) > 0 { resendUnsent() }
                return
            }
            unsent.withLock { table in
                table[key] = reason
                unsentCount.store(table.count, ordering: .relaxed)
            }
        }
    }

    /// Writes again the bans the store failed to take, for what is left of them here.
    private func resendUnsent() {
        let pending = unsent.withLock { table in
            defer {
                table.removeAll()
                unsentCount.store(0, ordering: .relaxed)
            }
            return table
        }
        for (key, reason) in pending {
            guard let seconds = local.remainingSeconds(key) else { continue }
            send(key, forSeconds: seconds, reason: reason)
        }
    }

    /// Lifts `key`'s ban in the shared store, then here. Blocks on the store: never call it on a loop.
    /// - Returns: whether a live ban was lifted, or the store's error (the ban then stays everywhere).
    public func lift(_ key: String) -> Result<Bool, SharedStoreError> {
        guard let store, let backend else { return .success(local.lift(key)) }
        let shared = backend.wait { loop, done in store.lift(key, on: loop, completion: done) }
        backend.note(shared, store: "bans")
        return shared.map { lifted in local.lift(key) || lifted }
    }

    /// The live bans, sorted by key: the shared store's, or the local list's. Blocks: never call it on a loop.
    public func list() -> Result<[BanList.Entry], SharedStoreError> {
        guard let store, let backend else { return .success(local.list()) }
        let result = backend.wait { loop, done in store.list(on: loop, completion: done) }
        backend.note(result, store: "bans")
        return result
    }

    /// Live bans in the local list (the `bans_active` gauge): all bans without a shared store; with one, those
    /// this gateway made or saw.
    public var activeBanCount: Int { local.activeBanCount }

    /// Mirrors a store answer locally, so that it holds through an outage and an unban reaches the list.
    /// - Returns: the answer to give: the store's, except for a ban still waiting to reach it.
    private func remember(_ key: String, _ status: BanStatus) -> BanStatus {
        if let seconds = status.remainingSeconds {
            local.ban(key, forSeconds: seconds, reason: "shared")
        } else if let left = local.remainingSeconds(key) {
            // A ban still waiting to reach the store is not lifted by the store's "not banned".
            guard unsentCount.load(ordering: .relaxed) == 0 || unsent.withLock({ $0[key] == nil }) else {
                return BanStatus(remainingSeconds: left)
            }
            local.lift(key)
        }
        return status
    }
}
