import Config
import Limits
import Net
import PortalCore
import Redis
import Telemetry

extension PortalRuntime {
    /// Bans and revoked token ids as every gateway sees them: this process's lists, shared through Redis when
    /// `REDIS_*` is set; and then the authentication failures every gateway counts together.
    struct SharedState {
        let bans: SharedBans
        let revocations: SharedRevocations
        /// Nil without Redis: each gateway counts its own failures.
        let failures: SharedAuthFailures?
    }

    /// Builds the lists, and with Redis makes them mirrors of Redis's (synced every second) and shares the failure
    /// counts (`RATE_LIMIT_FAIL_MODE` and `RATE_LIMIT_INSTANCES` for the own count while Redis is away): one circuit
    /// (the `RATE_LIMIT_CIRCUIT_*` thresholds) whose opening and recovery are logged once each, errors counted in
    /// `shared_state_errors_total{store,kind}`, and the circuit's state in `shared_state_circuit_state`. Accounts
    /// are named in Redis by digests keyed with the credential key (`CredentialSetup.credentialKey`), so every
    /// gateway needs the same `CREDENTIAL_HMAC_KEY` (it does anyway, to accept the same API keys).
    static func makeSharedState(
        _ settings: PortalSettings, redis: RedisClient?, group: EventLoopGroup, registry: MetricsRegistry,
        logger: Logger, clock: any PortalClock
    ) throws -> SharedState {
        let localBans = BanList(clock: clock)
        let localRevocations = InMemoryRevocationList(
            clock: clock, leewaySeconds: Int64(settings.auth.jwtLeewaySeconds))
        registry.gauge(
            "revoked_tokens", help: "Revoked token ids held here until their tokens expire (plus JWT_LEEWAY)."
        ) {
            Double(localRevocations.count)
        }
        guard let redis, let redisSettings = settings.redis else {
            return SharedState(
                bans: SharedBans(local: localBans), revocations: SharedRevocations(local: localRevocations),
                failures: nil)
        }

        let backend = settings.rateLimitBackend
        let circuit = BackendCircuit(
            failureThreshold: backend.circuitFailures,
            cooldownNanoseconds: UInt64(backend.circuitCooldownSeconds * 1_000_000_000), clock: clock
        ) { [logger] change in
            switch change {
            case .opened: logger.warning("shared_state.redis_unreachable", ["fallback": .string("local_lists")])
            case .recovered: logger.notice("shared_state.redis_recovered")
            }
        }
        let errors = registry.counter(
            "shared_state_errors_total",
            help: "Ban, revocation and failure-count calls Redis failed to answer, by store and kind.",
            labelNames: ["store", "kind"])
        registry.gauge(
            "shared_state_circuit_state",
            help:
                "Circuit in front of Redis for bans, revocations and failure counts: 0 closed, 1 open (local ones "
                + "decide), 2 probing."
        ) { Double(circuit.state.rawValue) }
        let shared = SharedStoreBackend(circuit: circuit, writeLoop: group.loops[0]) { store, error in
            errors.labels([store, error.label]).increment()
        }
        let prefix = redisSettings.keyPrefix
        let accountKey = try CredentialSetup.credentialKey(settings)
        return SharedState(
            bans: SharedBans(local: localBans, store: RedisBanStore(client: redis, keyPrefix: prefix), backend: shared),
            revocations: SharedRevocations(
                local: localRevocations, store: RedisRevocationStore(client: redis, keyPrefix: prefix, clock: clock),
                backend: shared),
            failures: SharedAuthFailures(
                store: RedisAuthFailureStore(client: redis, keyPrefix: prefix, accountKey: accountKey),
                policy: bruteForcePolicy(settings), failMode: failMode(backend), instances: backend.instances,
                backend: shared))
    }
}
