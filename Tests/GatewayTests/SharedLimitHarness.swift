import Config
import Foundation
import Gateway
import HTTPCodec
import Limits
import Net
import PortalCore
import Redis
import RedisTestSupport
import Synchronization
import Telemetry

/// Answers 200 to everything: the upstream behind gateways under load.
final class OKUpstream: HTTPHandler {
    func handle(
        _ request: HTTPRequest, connection: ConnectionInfo, loop: EventLoop,
        respond: @escaping @Sendable (HTTPResponse) -> Void
    ) {
        respond(HTTPResponse(status: 200, headers: HTTPHeaders(), body: Array("ok".utf8)))
    }
}

/// Several gateways on loopback, each with its own event loop, Redis client and metrics, sharing one
/// redis-server and one upstream: as N `portal gateway` processes behind a load balancer would.
final class SharedLimitHarness {
    struct Gateway {
        let group: EventLoopGroup
        let client: RedisClient
        let limiter: SharedRateLimiter
        let registry: MetricsRegistry
        let server: HTTPServer
        var port: Int { server.port }
    }

    let redis: RedisServer
    let upstreamGroup: EventLoopGroup
    let upstream: HTTPServer
    private(set) var gateways: [Gateway] = []

    init(
        count: Int, policy: RateLimitPolicy, mode: RateLimitFailMode, instances: Int,
        cooldownNanoseconds: UInt64 = 500_000_000
    ) throws {
        redis = try RedisServer()
        upstreamGroup = try EventLoopGroup(threads: 1)
        upstream = HTTPServer(host: "127.0.0.1", port: 0, group: upstreamGroup, handler: OKUpstream())
        try upstream.start()
        let route = Route(
            prefix: "/public", upstream: UpstreamURL(host: "127.0.0.1", port: upstream.port),
            scopesByMethod: ["GET": []], isPublic: true)
        for _ in 0..<count {
            let group = try EventLoopGroup(threads: 1)
            var configuration = RedisConfiguration(
                host: "127.0.0.1", port: redis.port, password: RedisPassword(redis.password))
            configuration.commandTimeoutNanoseconds = 300_000_000
            let client = try RedisClient(configuration: configuration)
            let registry = MetricsRegistry()
            let errors = registry.counter(
                "rate_limit_backend_errors_total", help: "Rate-limit decisions Redis failed to make.",
                labelNames: ["kind"])
            let limiter = SharedRateLimiter(
                store: RedisRateLimitStore(client: client), failMode: mode, instances: instances,
                circuit: BackendCircuit(
                    failureThreshold: 3, cooldownNanoseconds: cooldownNanoseconds, clock: SystemClock()),
                local: InMemoryRateLimiter(clock: SystemClock()),
                onBackendError: { errors.labels([$0.kind.rawValue]).increment() })
            let service = try GatewayService(
                settings: GatewaySettings(upstreamTimeoutNanoseconds: 5_000_000_000, rateLimit: policy),
                routes: RouteTable(routes: [route]), verifier: nil, limiter: limiter, audit: nil,
                metrics: GatewayMetrics(registry: registry), upstreams: UpstreamClient())
            let server = HTTPServer(host: "127.0.0.1", port: 0, group: group, handler: service)
            try server.start()
            gateways.append(
                Gateway(group: group, client: client, limiter: limiter, registry: registry, server: server))
        }
    }

    /// The sum over every kind of `rate_limit_backend_errors_total` on gateway `index`.
    func backendErrors(_ index: Int) -> Double {
        gateways[index].registry.exposition().split(separator: "\n")
            .filter { $0.hasPrefix("rate_limit_backend_errors_total{") }
            .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }
            .reduce(0, +)
    }

    func shutdown() {
        for gateway in gateways {
            gateway.server.shutdown(deadline: .milliseconds(200))
            gateway.client.close(on: gateway.group.loops)
            gateway.group.shutdown()
        }
        upstream.shutdown(deadline: .milliseconds(200))
        upstreamGroup.shutdown()
        redis.killHard()
    }
}

/// Keep-alive clients sending `GET /public/x` to every gateway as fast as they are answered, until stopped;
/// each answer is recorded with its time, status and gateway.
final class Hammer: @unchecked Sendable {
    // @unchecked: `results` is guarded by its Mutex; `threads` is touched only by the test's thread.
    struct Answer: Sendable {
        /// When the request was sent, and when its answer arrived.
        let sent: Date
        let time: Date
        let status: Int
        let gateway: Int
    }

    private let running = Atomic<Bool>(true)
    private let results = Mutex<[Answer]>([])
    private let finished = Atomic<Int>(0)
    private let threadCount: Int
    /// When the first request went out.
    let started = Date()

    /// Starts `perGateway` client threads for each of `ports`.
    init(ports: [Int], perGateway: Int) {
        threadCount = ports.count * perGateway
        for (index, port) in ports.enumerated() {
            for _ in 0..<perGateway {
                let thread = Thread { [self] in
                    run(port: port, gateway: index)
                    finished.add(1, ordering: .relaxed)
                }
                thread.start()
            }
        }
    }

    private func run(port: Int, gateway: Int) {
        var client: TestHTTPClient?
        var local: [Answer] = []
        while running.load(ordering: .relaxed) {
            do {
                if client == nil { client = try TestHTTPClient(port: port) }
                let sent = Date()
                let response = try client!.request("GET", "/public/x")
                local.append(Answer(sent: sent, time: Date(), status: response.status, gateway: gateway))
            } catch {
                client = nil
                usleep(1_000)
            }
        }
        results.withLock { $0.append(contentsOf: local) }
    }

    /// Stops every client after its current request and returns every answer, in time order.
    func stop() -> [Answer] {
        running.store(false, ordering: .relaxed)
        while finished.load(ordering: .relaxed) < threadCount { usleep(5_000) }
        return results.withLock { $0 }.sorted { $0.time < $1.time }
    }
}
