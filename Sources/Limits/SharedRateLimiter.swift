import Net
import Redis

/// The per-client limit shared by every gateway through Redis, with an explicit fail mode and a circuit.
///
/// While the circuit is closed each decision is one script call to Redis (`RedisRateLimitStore`). When
/// Redis fails (`failureThreshold` times in a row) the circuit opens and, until a probe succeeds, requests
/// are decided at once without Redis by `failMode`: `open` passes them, `closed` refuses them, `local`
/// limits them in memory to this instance's share. A request whose own Redis call fails gets the fail
/// mode's answer too. Recovery needs no operator: after each cool-down one request probes Redis.
public final class SharedRateLimiter: LoopRateLimiter {
    /// What to do while Redis cannot answer.
    public let failMode: RateLimitFailMode
    /// Gateways sharing the limit; `local` mode limits to 1/`instances` of it.
    public let instances: Int
    /// The circuit in front of Redis; read its `state` for a gauge.
    public let circuit: BackendCircuit
    /// The in-memory limiter of `local` mode; its tracked keys are worth a gauge too.
    public let local: InMemoryRateLimiter
    private let store: RedisRateLimitStore
    private let onBackendError: @Sendable (RedisError) -> Void

    /// - Parameters:
    ///   - store: decisions in Redis.
    ///   - failMode: what to do while Redis cannot answer.
    ///   - instances: how many gateways share the limit (1 or more), for `local`.
    ///   - circuit: the breaker in front of Redis.
    ///   - local: the fallback limiter for `local`.
    ///   - onBackendError: told of every failed Redis decision (count it; never log per request).
    public init(
        store: RedisRateLimitStore, failMode: RateLimitFailMode, instances: Int, circuit: BackendCircuit,
        local: InMemoryRateLimiter, onBackendError: @escaping @Sendable (RedisError) -> Void
    ) {
        precondition(instances >= 1, "at least this gateway shares the limit")
        self.store = store
        self.failMode = failMode
        self.instances = instances
        self.circuit = circuit
        self.local = local
        self.onBackendError = onBackendError
    }

    public func decideWithoutWaiting(key: String, policy: RateLimitPolicy) -> RateLimitVerdict? {
        circuit.allowsRequest() ? nil : fallback(key: key, policy: policy)
    }

    public func decide(
        key: String, policy: RateLimitPolicy, on loop: EventLoop,
        completion: @escaping @Sendable (RateLimitVerdict) -> Void
    ) {
        store.decide(key: key, policy: policy, on: loop) { [self] result in
            switch result {
            case .success(let decision):
                circuit.recordSuccess()
                completion(.decided(decision))
            case .failure(let error):
                circuit.recordFailure()
                onBackendError(error)
                completion(fallback(key: key, policy: policy))
            }
        }
    }

    /// The fail mode's answer for a request Redis cannot decide.
    func fallback(key: String, policy: RateLimitPolicy) -> RateLimitVerdict {
        switch failMode {
        case .open: .unlimited
        case .closed: .unavailable
        case .local: .decided(local.decide(key: key, policy: localShare(of: policy, instances: instances)))
        }
    }
}
