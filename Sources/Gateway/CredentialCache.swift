import Auth
import Dispatch
import Limits
import PortalCore
import Store
import Synchronization
import Telemetry

/// The credential store as the request path sees it: API keys, users' token cut-offs and revoked token ids in
/// memory, re-read from the store every `refreshNanoseconds` on a background queue, and changed at once by this
/// process's own writes.
///
/// A request reads memory only. A key id the snapshot lacks (created a moment ago by `portal key create` in
/// another process) is looked up in the store on a worker, off the loop. When the store cannot be read, the
/// last snapshot stays in use and the failure is logged and counted (`credential_refresh_errors_total`).
public final class CredentialCache: Sendable {
    /// Where credentials live.
    public let store: any CredentialStore
    /// Keyed hashes of API-key secrets and refresh tokens.
    public let hasher: CredentialHasher
    /// Revoked token ids, checked on every token: this process's, or shared through Redis.
    public let revocations: SharedRevocations
    /// Threads that may block on the store.
    public let workers: BlockingWorkers
    /// Threads for password checks (argon2id), apart from `workers`, shared fairly among client addresses.
    public let passwordChecks: PasswordHashPool
    /// The wall clock that decides expiry of keys and revocations.
    public let clock: any PortalClock
    private let logger: Logger
    private let refreshNanoseconds: UInt64
    private let keys = Mutex<[String: APIKeyRecord]>([:])
    /// Per user: tokens issued before this Unix second are void (the last password change, disable or enable);
    /// `Int64.max` while disabled.
    private let userCutoffs = Mutex<[String: Int64]>([:])
    private let stopped = Atomic<Bool>(false)
    private let refreshErrors: Counter.Child?
    private let queue = DispatchQueue(label: "portal.credentials.refresh")

    /// - Parameters:
    ///   - store: the credential store.
    ///   - hasher: hashes presented secrets the way the store keeps them.
    ///   - revocations: the revoked-token list requests consult (this process's, or shared).
    ///   - workers: where store lookups and writes run.
    ///   - passwordChecks: where password grants (argon2id) run.
    ///   - clock: wall-clock time for expiry.
    ///   - refreshSeconds: how often the store is re-read (`CREDENTIAL_CACHE_REFRESH_SECONDS`).
    ///   - logger: refresh failures.
    ///   - registry: registers `credential_refresh_errors_total` and `api_keys_cached` when given.
    public init(
        store: any CredentialStore, hasher: CredentialHasher, revocations: SharedRevocations,
        workers: BlockingWorkers, passwordChecks: PasswordHashPool = PasswordHashPool(),
        clock: any PortalClock = SystemClock(), refreshSeconds: Double = 1,
        logger: Logger, registry: MetricsRegistry? = nil
    ) {
        self.store = store
        self.hasher = hasher
        self.revocations = revocations
        self.workers = workers
        self.passwordChecks = passwordChecks
        self.clock = clock
        self.logger = logger
        refreshNanoseconds = UInt64(max(0.01, refreshSeconds) * 1_000_000_000)
        refreshErrors = registry?.counter(
            "credential_refresh_errors_total", help: "Failed re-reads of API keys and revocations from the store."
        ).labels([])
        registry?.gauge("api_keys_cached", help: "Usable API keys held in memory.") { [weak self] in
            Double(self?.cachedKeyCount ?? 0)
        }
    }

    /// Loads the snapshot now (start-up, on the calling thread), then keeps it fresh in the background.
    /// - Throws: `StoreError` when the store cannot be read at start.
    public func start() throws {
        try refresh()
        scheduleRefresh()
    }

    /// Stops the background refresh.
    public func stop() { stopped.store(true, ordering: .relaxed) }

    /// Re-reads usable API keys, users' token cut-offs and live revocations from the store. Blocks: never call it
    /// on a loop.
    public func refresh() throws {
        let now = clock.unixSeconds()
        let usable = try store.apiKeys().filter { $0.isUsable(at: now) }
        let users = try store.users()
        // A token stays accepted until its exp plus the leeway; so does its revocation.
        let revoked = try store.revokedTokens(expiringAfter: now - revocations.leewaySeconds)
        keys.withLock { table in
            table = Dictionary(usable.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        }
        let cutoffs = users.map { ($0.username, $0.disabled ? Int64.max : $0.updatedAt) }
        userCutoffs.withLock { $0 = Dictionary(cutoffs, uniquingKeysWith: { first, _ in first }) }
        revocations.merge(revoked.map { ($0.tokenID, $0.expiresAt) })
    }

    private func scheduleRefresh() {
        queue.asyncAfter(deadline: .now() + .nanoseconds(Int(refreshNanoseconds))) { [self] in
            guard !stopped.load(ordering: .relaxed) else { return }
            do {
                try refresh()
            } catch {
                refreshErrors?.increment()
                logger.error("credentials.refresh_failed", ["error": .string("\(error)")])
            }
            scheduleRefresh()
        }
    }

    /// Usable keys held in memory.
    public var cachedKeyCount: Int { keys.withLock { $0.count } }

    /// The usable key with this id from memory, or nil when the snapshot lacks it.
    public func cachedKey(id: String) -> APIKeyRecord? { keys.withLock { $0[id] } }

    /// What a store lookup of a key id came to.
    public enum Lookup: Sendable {
        case found(APIKeyRecord)
        case missing
        /// The workers were full or the store failed: the caller cannot tell, and refuses.
        case unavailable
    }

    /// Looks `id` up in the store on a worker; a usable key found is added to the snapshot. `completion` runs on
    /// the worker (or at once, when the workers are full).
    public func lookupKey(id: String, completion: @escaping @Sendable (Lookup) -> Void) {
        let accepted = workers.submit { [self] in
            do {
                guard let record = try store.apiKey(id: id) else { return completion(.missing) }
                if record.isUsable(at: clock.unixSeconds()) { keys.withLock { $0[record.id] = record } }
                completion(.found(record))
            } catch {
                refreshErrors?.increment()
                logger.error("credentials.lookup_failed", ["error": .string("\(error)")])
                completion(.unavailable)
            }
        }
        if !accepted { completion(.unavailable) }
    }

    /// Whether a token the gateway issued to user `subject` at `issuedAt` still stands: not when the user is
    /// disabled, nor when it was issued before the user's last password change. Memory only; a name the snapshot
    /// lacks (not a user of this store) is not judged here.
    public func userAccepts(_ subject: String, issuedAt: Int64) -> Bool {
        guard let cutoff = userCutoffs.withLock({ $0[subject] }) else { return true }
        return issuedAt >= cutoff
    }

    /// Whether `tokenID` is revoked; memory only.
    public func isRevoked(_ tokenID: String) -> Bool { revocations.isRevoked(tokenID) }

    /// Revokes an access token: in memory at once (and in Redis, when shared), durably on the refresh queue (never
    /// refused for load, since a lost revocation would come back at the next start). Never blocks the caller.
    public func revoke(tokenID: String, untilUnixSeconds: Int64, reason: String) {
        revocations.revoke(tokenID, untilUnixSeconds: untilUnixSeconds)
        let record = RevokedToken(
            tokenID: tokenID, expiresAt: untilUnixSeconds, revokedAt: clock.unixSeconds(), reason: reason)
        queue.async { [self] in
            do { try store.revokeToken(record) } catch {
                refreshErrors?.increment()
                logger.error("credentials.revoke_failed", ["error": .string("\(error)")])
            }
        }
    }

    /// Drops key `id` from memory at once (after a revocation by this process).
    public func forgetKey(id: String) { _ = keys.withLock { $0.removeValue(forKey: id) } }

    /// Adds or replaces a key in memory at once (after a creation or rotation by this process).
    public func remember(_ key: APIKeyRecord) {
        guard key.isUsable(at: clock.unixSeconds()) else { return forgetKey(id: key.id) }
        keys.withLock { $0[key.id] = key }
    }
}
