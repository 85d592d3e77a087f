import Config
import Limits
import Net
import PortalCore
import Redis
import Telemetry

extension PortalRuntime {
    /// The Redis client from `REDIS_*`, checked once before serving; nil without Redis.
    ///
    /// Refused credentials, a refused `SELECT` or a certificate that does not verify stop start-up with one
    /// line naming the setting. An unreachable server does not: the gateway starts and `RATE_LIMIT_FAIL_MODE`
    /// applies until Redis answers, so that a gateway restarted during a Redis outage comes up.
    static func makeRedisClient(_ settings: PortalSettings, logger: Logger) throws -> RedisClient? {
        guard let redis = settings.redis else { return nil }
        var tls: TLSClientContext?
        if redis.tls {
            do {
                tls = try TLSClientContext(caPath: redis.tlsCAPath, setting: "REDIS_TLS_CA_PATH")
            } catch {
                throw StartError(description: error.description, badSetting: error.reason != "openssl_failure")
            }
        }
        let configuration = RedisConfiguration(
            host: redis.host, port: redis.port, username: redis.username,
            password: redis.password.map { RedisPassword($0.text) }, database: redis.database, tls: tls,
            connectTimeoutNanoseconds: UInt64(redis.connectTimeoutSeconds * 1_000_000_000),
            commandTimeoutNanoseconds: UInt64(redis.commandTimeoutSeconds * 1_000_000_000))
        let client: RedisClient
        do {
            client = try RedisClient(configuration: configuration)
        } catch {
            throw StartError(description: "REDIS_URL/REDIS_HOST: cannot resolve \(redis.host)")
        }
        try verify(client, redis, logger: logger)
        return client
    }

    /// Connects once on a loop of its own and sends `PING` behind the handshake.
    private static func verify(_ client: RedisClient, _ redis: RedisSettings, logger: Logger) throws {
        let group = try EventLoopGroup(threads: 1)
        defer {
            client.close(on: group.loops)
            group.shutdown()
        }
        let at = "Redis at \(redis.host):\(redis.port)"
        do {
            try client.verifyConnection(on: group.loops[0])
            logger.info(
                "redis.connected",
                [
                    "host": .string(redis.host), "port": .int(redis.port), "tls": .bool(redis.tls),
                    "db": .int(redis.database),
                ])
        } catch {
            switch error.kind {
            case .authenticationFailed:
                throw StartError(description: "REDIS_PASSWORD: \(at) refused the credentials (\(error.code))")
            case .errorReply where error.code == "NOAUTH":
                throw StartError(description: "REDIS_PASSWORD: \(at) requires a password (NOAUTH)")
            case .selectFailed:
                throw StartError(description: "REDIS_DB: \(at) refused database \(redis.database) (\(error.code))")
            case .tlsFailed:
                throw StartError(description: "REDIS_TLS_CA_PATH: TLS to \(at) failed: \(error.detail)")
            default:
                logger.warning(
                    "redis.unreachable_at_start", ["error": .string(error.kind.rawValue), "host": .string(redis.host)])
            }
        }
    }

    /// The per-client-address limiter: in memory, or shared through Redis with its fail mode and circuit;
    /// nil when `RATE_LIMIT_BY_IP=false`. Registers the limiter's gauges and counters.
    static func makeLimiter(
        _ settings: PortalSettings, redis: RedisClient?, registry: MetricsRegistry, logger: Logger,
        clock: any PortalClock
    ) -> (any LoopRateLimiter)? {
        guard settings.rateLimitByIP else { return nil }
        let memory = InMemoryRateLimiter(clock: clock)
        registry.gauge("rate_limit_tracked_keys", help: "Client addresses the in-memory limiter holds state for.") {
            Double(memory.trackedKeyCount)
        }
        guard let redis, let redisSettings = settings.redis else { return memory }

        let backend = settings.rateLimitBackend
        let failMode = failMode(backend)
        let circuit = BackendCircuit(
            failureThreshold: backend.circuitFailures,
            cooldownNanoseconds: UInt64(backend.circuitCooldownSeconds * 1_000_000_000), clock: clock
        ) { [logger] change in
            switch change {
            case .opened:
                logger.warning("ratelimit.backend.circuit_opened", ["fail_mode": .string(failMode.rawValue)])
            case .recovered:
                logger.notice("ratelimit.backend.recovered")
            }
        }
        let errors = registry.counter(
            "rate_limit_backend_errors_total", help: "Rate-limit decisions Redis failed to make, by kind.",
            labelNames: ["kind"])
        registry.gauge(
            "rate_limit_backend_circuit_state",
            help: "Circuit in front of Redis: 0 closed (Redis decides), 1 open (fail mode decides), 2 probing."
        ) { Double(circuit.state.rawValue) }
        return SharedRateLimiter(
            store: RedisRateLimitStore(client: redis, keyPrefix: redisSettings.keyPrefix), failMode: failMode,
            instances: backend.instances, circuit: circuit, local: memory,
            onBackendError: { error in errors.labels([error.kind.rawValue]).increment() })
    }

    /// `RATE_LIMIT_FAIL_MODE`, for the shared limiter and the shared failure counts.
    static func failMode(_ backend: RateLimitBackendSettings) -> RateLimitFailMode {
        switch backend.failMode {
        case .open: .open
        case .closed: .closed
        case .local: .local
        }
    }
}
