/// Authentication failures counted by every gateway together, in Redis (`RedisAuthFailureStore`), behind the
/// shared stores' circuit; `RATE_LIMIT_FAIL_MODE` says how far a gateway's own count may go while Redis cannot
/// answer.
///
/// The request path never waits for it: a failure is sent on the backend's write loop and its answer comes back
/// there. Calls are made only while the circuit lets them (`allowsRequest`), and every outcome feeds the circuit
/// and `onError` (store `failures`), as the ban and revocation mirrors' do.
public final class SharedAuthFailures: Sendable {
    /// The limits every gateway counts by; the same on each.
    public let policy: BruteForcePolicy
    /// The failures an address must have made against a locked account to be banned with it.
    public let minAccountShare: Int
    /// What a gateway's own count decides by while Redis cannot answer (see `fallbackLimit`).
    public let failMode: RateLimitFailMode
    /// Gateways sharing the count (`RATE_LIMIT_INSTANCES`).
    public let instances: Int
    private let store: RedisAuthFailureStore
    private let backend: SharedStoreBackend

    /// - Parameters:
    ///   - store: the counts in Redis.
    ///   - policy: the limits, as this gateway's own tracker has them.
    ///   - minAccountShare: as the own tracker's; default 2.
    ///   - failMode: how far the own count goes while Redis cannot answer.
    ///   - instances: how many gateways share the count (1 or more).
    ///   - backend: the circuit, write loop and error count of the ban and revocation stores.
    public init(
        store: RedisAuthFailureStore, policy: BruteForcePolicy, minAccountShare: Int = 2,
        failMode: RateLimitFailMode, instances: Int, backend: SharedStoreBackend
    ) {
        precondition(instances >= 1, "at least this gateway shares the count")
        precondition(minAccountShare >= 1, "minAccountShare must be positive")
        self.store = store
        self.policy = policy
        self.minAccountShare = minAccountShare
        self.failMode = failMode
        self.instances = instances
        self.backend = backend
    }

    /// The failures that ban an address or lock an account by a gateway's own count while Redis cannot answer:
    /// `maxFailures` in `open` mode (each gateway as if alone; together they allow up to `instances` times as
    /// many guesses); in `local` and `closed` mode this gateway's share, `maxFailures / instances` rounded down
    /// and at least 1, so that together they never allow more than the shared limit.
    public var fallbackLimit: Int {
        switch failMode {
        case .open: policy.maxFailures
        case .local, .closed: max(1, policy.maxFailures / instances)
        }
    }

    /// Whether the shared count may be asked now: false while the circuit is open. A true answer after the
    /// circuit's cool-down makes this call the probe, so `record` must follow it.
    public func allowsRequest() -> Bool { backend.circuit.allowsRequest() }

    /// Counts one failure from `address` (against `account`, when known) with every gateway's; `completion`
    /// runs once, on the write loop, with what the failure earned or the error that kept Redis from answering.
    /// - Parameter lockKey: the account's key in the ban list when it can be locked (see
    ///   `RedisAuthFailureStore.record`); default nil.
    public func record(
        address: String, account: String?, lockKey: String? = nil,
        completion: @escaping @Sendable (Result<RedisAuthFailureStore.Answer, SharedStoreError>) -> Void
    ) {
        let backend = backend
        store.record(
            address: address, account: account, lockKey: lockKey, policy: policy, minAccountShare: minAccountShare,
            on: backend.writeLoop
        ) { result in
            backend.note(result, store: "failures")
            completion(result)
        }
    }

    /// Forgets `address`'s shared failures in the background (its ban was lifted); skipped while the circuit is
    /// open, when they expire with their window.
    public func forget(address: String) {
        guard backend.circuit.allowsRequest() else { return }
        let backend = backend
        store.forget(address: address, on: backend.writeLoop) { backend.note($0, store: "failures") }
    }

    /// Forgets `account`'s shared failures in the background (it logged in, or its lock was lifted); skipped
    /// while the circuit is open, when they expire with their window.
    public func forget(account: String) {
        guard backend.circuit.allowsRequest() else { return }
        let backend = backend
        store.forget(account: account, on: backend.writeLoop) { backend.note($0, store: "failures") }
    }
}
