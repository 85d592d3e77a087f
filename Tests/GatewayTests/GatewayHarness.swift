import Audit
import Auth
import Config
import Crypto
import DataLayer
import Foundation
import Gateway
import HTTPCodec
import Limits
import Net
import PortalCore
import Redis
import Store
import Telemetry
import Testing

/// Real servers on 127.0.0.1 port 0, wired as `portal serve` wires them: the data layer over SQLite in a
/// temporary directory, a recording fake upstream, the gateway in front of both, and the admin listener.
///
/// Routes: `/api/v1/events` (data layer; GET `events:read`, POST `events:write`), `/echo` (fake upstream under
/// base path `/base`; GET `echo:read`, POST and PUT `echo:write`), `/public` (fake upstream, public, GET and
/// POST), `/refused` (a closed port, public, GET). Call `shutdown()` when done.
final class GatewayHarness {
    struct Options {
        /// Generous by default, so that only the rate-limit tests meet the limit.
        var rateLimit = RateLimitPolicy(requestsPerMinute: 60_000, burst: 1_000)
        var trustedProxies = CIDRList()
        var upstreamTimeoutMilliseconds: UInt64 = 5_000
        /// The gateway listener's body limit (`MAX_BODY_SIZE`).
        var maxBodyBytes = 1024 * 1024
        /// Routes added to the standard four.
        var extraRoutes: [Route] = []
        /// Routes added to the standard four whose upstream is replaced by the fake upstream (no base path).
        var fakeUpstreamRoutes: [Route] = []
        /// A service key the gateway presents to the fake upstream, as if configured; nil presents none.
        var fakeUpstreamServiceKey: String?
        /// Builds the gateway's authentication over the harness clock; nil: HS256 under `secret`, audience
        /// `audience`, default access policy.
        var makeAuth: (@Sendable (ManualClock) throws -> GatewayAuthentication)?
        /// Gives the default authentication a credential store (SQLite in the harness directory) and the admin
        /// listener the admin API.
        var withCredentials = false
        /// How often the credential cache re-reads the store, in seconds.
        var credentialRefreshSeconds = 3600.0
        /// Serves `POST /auth/token` and `/auth/revoke` (needs `withCredentials`): HS256 under `secret`.
        var withTokens = false
        /// Lifetime of issued access tokens, in seconds.
        var accessLifetimeSeconds = 600
        /// A key under which the gateway signs identities for the data layer and the fake upstream, and with
        /// which the data layer checks them.
        var identityKey: [UInt8]?
        /// Further upstream ports on 127.0.0.1 the gateway signs identities for under `identityKey`.
        var identityPorts: [Int] = []
        /// Brute-force protection for the default authentication; nil: none.
        var bruteForce: BruteForcePolicy?
        /// `AUDIT_FAIL_MODE=closed`.
        var auditFailClosed = false
        /// Shares bans and revocations through this Redis (as `REDIS_URL` does); nil: this process only.
        var redis: RedisClient?
        /// How often the ban and revocation mirrors sync with Redis, in nanoseconds.
        var sharedSyncNanoseconds: UInt64 = 1_000_000_000
        /// Failures in a row that open the shared stores' circuit, and its cool-down in milliseconds.
        var sharedCircuit = (failures: 3, cooldownMilliseconds: UInt64(5_000))
        /// With Redis and `bruteForce`: `RATE_LIMIT_FAIL_MODE` and `RATE_LIMIT_INSTANCES` for the failure counts.
        var bruteForceFailMode = RateLimitFailMode.local
        var bruteForceInstances = 1
    }

    /// The credential key of harnesses with credentials.
    static let credentialKey = Array("gateway-tests-credential-key-32-bytes-long!".utf8)

    static let secret = Array("gateway-tests-hs256-secret-of-at-least-32-bytes".utf8)
    static let otherSecret = Array("a-different-secret-that-is-also-32-bytes-long!!".utf8)
    static let audience = "story-portal"

    /// The data layer's key; fresh per harness, so a leak cannot pass by accident.
    let serviceKey = "svc-" + UUID().uuidString.lowercased()
    /// Drives token expiry and the rate limiter; never advanced unless a test means to. With Redis it starts at
    /// the real time, since Redis expires revocations on its own clock.
    let clock: ManualClock
    let directory: String
    let auditPath: String
    let registry = MetricsRegistry()
    let fake = FakeUpstream()
    let group: EventLoopGroup
    let audit: AuditLog
    let upstream: HTTPServer
    let dataLayer: HTTPServer
    let gateway: HTTPServer
    /// The gateway's handler itself, for tests that call it with connection facts a plain socket cannot give.
    let service: GatewayService
    let admin: HTTPServer
    /// The credential cache (and through it the store), when the options asked for one.
    let credentials: CredentialCache?
    /// Bans and revocations, shared through Redis when the options gave one.
    let bans: SharedBans
    let revocations: SharedRevocations
    /// The shared stores' circuit; nil without Redis.
    let sharedCircuit: BackendCircuit?
    /// Failure counts shared through Redis, when the options gave Redis and a brute-force policy.
    let sharedFailures: SharedAuthFailures?
    private var stopped = false

    init(_ options: Options = Options()) throws {
        clock = options.redis == nil ? ManualClock() : ManualClock(unixSeconds: Int64(Date().timeIntervalSince1970))
        directory = NSTemporaryDirectory() + "gateway-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // In its own directory, so that a test can take the directory away.
        auditPath = directory + "/audit/audit.log"
        try FileManager.default.createDirectory(atPath: directory + "/audit", withIntermediateDirectories: true)
        group = try EventLoopGroup(threads: 1)
        audit = try AuditLog(path: auditPath, commitIntervalMilliseconds: 5)
        let errorHeaders = GatewayService.serverErrorHeaders

        // The parts behind the gateway start first: the route table needs their ports.
        let store = try SQLiteEventStore(directory: directory + "/data")
        let router = DataLayerRouter(
            store: store, authenticator: ServiceKeyAuthenticator(keys: [serviceKey]),
            identity: options.identityKey.map { ConsumerSignatureVerifier(key: $0) })
        dataLayer = HTTPServer(
            host: "127.0.0.1", port: 0, group: group, handler: DataLayerService(router: router),
            errorHeaders: errorHeaders)
        upstream = HTTPServer(host: "127.0.0.1", port: 0, group: group, handler: fake)
        try dataLayer.start()
        try upstream.start()

        if let redis = options.redis {
            let circuit = BackendCircuit(
                failureThreshold: options.sharedCircuit.failures,
                cooldownNanoseconds: options.sharedCircuit.cooldownMilliseconds * 1_000_000, clock: SystemClock())
            let errors = registry.counter(
                "shared_state_errors_total",
                help: "Ban, revocation and failure-count calls Redis failed to answer.", labelNames: ["store", "kind"])
            let backend = SharedStoreBackend(
                circuit: circuit, writeLoop: group.loops[0], syncIntervalNanoseconds: options.sharedSyncNanoseconds
            ) { store, error in
                errors.labels([store, error.label]).increment()
            }
            bans = SharedBans(
                local: BanList(clock: clock), store: RedisBanStore(client: redis),
                backend: backend)
            revocations = SharedRevocations(
                local: InMemoryRevocationList(clock: clock),
                store: RedisRevocationStore(client: redis),
                backend: backend)
            sharedCircuit = circuit
            sharedFailures = options.bruteForce.map { policy in
                SharedAuthFailures(
                    store: RedisAuthFailureStore(client: redis, accountKey: Self.credentialKey), policy: policy,
                    failMode: options.bruteForceFailMode,
                    instances: options.bruteForceInstances, backend: backend)
            }
        } else {
            bans = SharedBans(local: BanList(clock: clock))
            revocations = SharedRevocations(local: InMemoryRevocationList(clock: clock))
            sharedCircuit = nil
            sharedFailures = nil
        }
        if options.withCredentials {
            let cache = CredentialCache(
                store: try SQLiteCredentialStore(directory: directory + "/data"),
                hasher: CredentialHasher(key: Self.credentialKey), revocations: revocations,
                workers: BlockingWorkers(name: "harness-auth"), clock: clock,
                refreshSeconds: options.credentialRefreshSeconds, logger: Logger(level: .error, sink: MemoryLogSink()),
                registry: registry)
            try cache.start()
            credentials = cache
        } else {
            credentials = nil
        }
        let clock = self.clock
        let registry = self.registry
        let bans = self.bans
        let sharedFailures = self.sharedFailures
        let bruteForce = options.bruteForce.map { policy in
            BruteForceGuard(
                bans: bans, tracker: InMemoryAuthFailureTracker(policy: policy), shared: sharedFailures, clock: clock,
                registry: registry)
        }
        let kid = JWTSigner.keyID(forSecret: Self.secret)
        let tokens =
            options.withTokens
            ? TokenIssuer(
                signer: try JWTSigner.hs256(secret: Self.secret, kid: kid), audience: Self.audience,
                accessLifetimeSeconds: options.accessLifetimeSeconds, clock: clock) : nil
        let auth =
            try options.makeAuth?(clock)
            ?? GatewayAuthentication(
                keyRing: JWTKeyRing(
                    fixedKeys: [try JWTVerifier.Key.hmac(secret: Self.secret, algorithm: .hs256, kid: kid)],
                    configuration: JWTVerifier.Configuration(audience: Self.audience), clock: clock),
                credentials: credentials, tokens: tokens,
                bruteForce: bruteForce)
        var serviceKeys = [ServiceKeyBinding(host: "127.0.0.1", port: dataLayer.port, key: serviceKey)]
        if let key = options.fakeUpstreamServiceKey {
            serviceKeys.append(ServiceKeyBinding(host: "127.0.0.1", port: upstream.port, key: key))
        }
        var settings = GatewaySettings(
            trustedProxies: options.trustedProxies,
            upstreamTimeoutNanoseconds: options.upstreamTimeoutMilliseconds * 1_000_000,
            serviceKeys: serviceKeys,
            rateLimit: options.rateLimit)
        settings.auditFailClosed = options.auditFailClosed
        if let key = options.identityKey {
            settings.identityKeys = ([dataLayer.port, upstream.port] + options.identityPorts).map {
                IdentityKeyBinding(host: "127.0.0.1", port: $0, key: key)
            }
        }
        service = try GatewayService(
            settings: settings,
            routes: RouteTable(
                routes: Self.routes(dataLayerPort: dataLayer.port, upstreamPort: upstream.port) + options.extraRoutes
                    + options.fakeUpstreamRoutes.map { [port = upstream.port] route in
                        Route(
                            prefix: route.prefix, upstream: UpstreamURL(host: "127.0.0.1", port: port),
                            scopesByMethod: route.scopesByMethod, isPublic: route.isPublic,
                            rolesByMethod: route.rolesByMethod, identityKeyFile: route.identityKeyFile)
                    }),
            auth: auth, limiter: InMemoryRateLimiter(clock: clock), audit: audit,
            metrics: GatewayMetrics(registry: registry), upstreams: UpstreamClient())
        gateway = HTTPServer(
            host: "127.0.0.1", port: 0, group: group, handler: service,
            limits: HTTPParserLimits(maxBodyBytes: options.maxBodyBytes), errorHeaders: errorHeaders)
        let service = self.service
        let audit = self.audit
        let api = credentials.map {
            AdminAPI(gateway: service, credentials: $0, audit: audit, rotationGraceSeconds: 3600)
        }
        admin = HTTPServer(
            host: "127.0.0.1", port: 0, group: group,
            handler: AdminService(registry: registry, readiness: { (try? store.ping()) != nil }, api: api),
            errorHeaders: errorHeaders)
        try gateway.start()
        try admin.start()
    }

    /// Stops every server and the loops, closes the audit log and removes the temporary directory.
    func shutdown() {
        guard !stopped else { return }
        stopped = true
        credentials?.stop()
        bans.stop()
        revocations.stop()
        for server in [gateway, admin, dataLayer, upstream] { server.shutdown(deadline: .milliseconds(200)) }
        group.shutdown()
        audit.close()
        try? FileManager.default.removeItem(atPath: directory)
    }

    deinit { shutdown() }

    static func routes(dataLayerPort: Int, upstreamPort: Int) -> [Route] {
        let fake = UpstreamURL(host: "127.0.0.1", port: upstreamPort, basePath: "/base")
        return [
            Route(
                prefix: "/api/v1/events", upstream: UpstreamURL(host: "127.0.0.1", port: dataLayerPort),
                scopesByMethod: ["GET": ["events:read"], "POST": ["events:write"]]),
            Route(
                prefix: "/echo", upstream: fake,
                scopesByMethod: ["GET": ["echo:read"], "POST": ["echo:write"], "PUT": ["echo:write"]]),
            Route(
                prefix: "/public", upstream: UpstreamURL(host: "127.0.0.1", port: upstreamPort),
                scopesByMethod: ["GET": [], "POST": []], isPublic: true),
            Route(
                prefix: "/refused", upstream: UpstreamURL(host: "127.0.0.1", port: Self.closedPort()),
                scopesByMethod: ["GET": []], isPublic: true),
        ]
    }

    /// A port nothing listens on: bound, read back, then closed.
    static func closedPort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                _ = bind(fd, pointer, length)
                return getsockname(fd, pointer, &length)
            }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    // MARK: clients and tokens

    func client() throws -> TestHTTPClient { try TestHTTPClient(port: gateway.port) }

    /// One request to the gateway on a fresh connection.
    func send(
        _ method: String, _ target: String, headers: [(String, String)] = [], body: [UInt8]? = nil
    ) throws -> TestHTTPClient.Response {
        try client().request(method, target, headers: headers, bodyBytes: body)
    }

    /// An HS256 token for `subject`, valid for an hour from the harness clock unless told otherwise.
    func token(
        scopes: [String], subject: String = "user-42", expiresInSeconds: Int64 = 3600, secret: [UInt8] = secret,
        roles: [String] = []
    ) throws -> String {
        let now = clock.unixSeconds()
        let claims = JWTClaims(
            subject: subject, scopes: scopes, issuedAt: now - 10, expiresAt: now + expiresInSeconds,
            audience: Self.audience, roles: roles)
        return try JWTSigner.hs256(secret: secret).sign(claims)
    }

    /// A token with any header, signed with HMAC under `digest`, for algorithm-confusion tests.
    func forgedToken(header: String, scopes: [String], digest: DigestAlgorithm = .sha256) -> String {
        let now = clock.unixSeconds()
        let payload =
            #"{"sub":"user-42","aud":"\#(Self.audience)","scope":"\#(scopes.joined(separator: " "))","#
            + #""iat":\#(now - 10),"exp":\#(now + 3600)}"#
        let input = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(payload.utf8))
        let mac = HMAC.authenticationCode(for: Array(input.utf8), key: Self.secret, using: digest)
        return input + "." + Base64URL.encode(mac)
    }

    /// Every audit record written so far (after a flush), as JSON objects.
    func auditRecords() throws -> [[String: Any]] {
        _ = audit.flush()
        let text = (try? String(contentsOfFile: auditPath, encoding: .utf8)) ?? ""
        return try text.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
    }

    /// The audit trail's text so far (after a flush).
    func auditText() -> String {
        _ = audit.flush()
        return (try? String(contentsOfFile: auditPath, encoding: .utf8)) ?? ""
    }

    // MARK: metrics

    /// The admin server's `/metrics` text.
    func exposition() throws -> String {
        let response = try TestHTTPClient(port: admin.port).request("GET", "/metrics")
        guard response.status == 200 else { throw TestHTTPClient.Failure(description: "/metrics: \(response.status)") }
        return response.text
    }

    /// The value of the series written exactly as `series` (name and labels), or 0 when absent.
    func metric(_ series: String) throws -> Double {
        for line in try exposition().split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1)) ?? .nan
        }
        return 0
    }
}
