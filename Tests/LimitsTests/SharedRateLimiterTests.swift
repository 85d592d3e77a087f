import Foundation
import Limits
import Net
import PortalCore
import Redis
import RedisTestSupport
import Synchronization
import Testing

/// The shared limiter's fail modes and circuit, with a real redis-server stopped and started again.
@Suite("Shared rate limiter")
struct SharedRateLimiterTests {
    static let policy = RateLimitPolicy(requestsPerMinute: 60, burst: 5)

    final class Errors: Sendable {
        let kinds = Mutex<[RedisError.Kind]>([])
        var count: Int { kinds.withLock { $0.count } }
    }

    static func limiter(
        _ fixture: RedisLimiterFixture, mode: RateLimitFailMode, instances: Int = 1, errors: Errors,
        cooldownNanoseconds: UInt64 = 300_000_000
    ) -> SharedRateLimiter {
        SharedRateLimiter(
            store: RedisRateLimitStore(client: fixture.client), failMode: mode, instances: instances,
            circuit: BackendCircuit(
                failureThreshold: 3, cooldownNanoseconds: cooldownNanoseconds, clock: SystemClock()),
            local: InMemoryRateLimiter(clock: SystemClock()),
            onBackendError: { error in errors.kinds.withLock { $0.append(error.kind) } })
    }

    @Test("closed: while Redis is down every verdict is unavailable, and once the circuit opens no call waits")
    func closedMode() throws {
        let server = try RedisServer()
        let fixture = try RedisLimiterFixture(server: server)
        defer { fixture.shutdown() }
        let errors = Errors()
        let limiter = Self.limiter(fixture, mode: .closed, errors: errors)
        #expect(fixture.verdict(limiter, key: "c", policy: Self.policy) != .unavailable)

        server.stop()
        let verdicts = (0..<10).map { _ in fixture.verdict(limiter, key: "c", policy: Self.policy) }

        #expect(verdicts.allSatisfy { $0 == .unavailable })
        #expect(limiter.circuit.state == .open)
        #expect(errors.count == 3, "failures until the circuit opened, then none: \(errors.count)")
        #expect(limiter.decideWithoutWaiting(key: "c", policy: Self.policy) == .unavailable)
    }

    @Test("open: while Redis is down requests pass unlimited and the backend errors are reported")
    func openMode() throws {
        let server = try RedisServer()
        let fixture = try RedisLimiterFixture(server: server)
        defer { fixture.shutdown() }
        let errors = Errors()
        let limiter = Self.limiter(fixture, mode: .open, errors: errors)

        server.stop()
        let verdicts = (0..<(Self.policy.capacity * 3)).map { _ in
            fixture.verdict(limiter, key: "o", policy: Self.policy)
        }

        #expect(verdicts.allSatisfy { $0 == .unlimited })
        #expect(errors.count >= 1)
    }

    @Test("local: while Redis is down this instance allows its share (capacity / instances), then refuses")
    func localMode() throws {
        let server = try RedisServer()
        let fixture = try RedisLimiterFixture(server: server)
        defer { fixture.shutdown() }
        let limiter = Self.limiter(fixture, mode: .local, instances: 2, errors: Errors())

        server.stop()
        let verdicts = (0..<10).map { _ in fixture.verdict(limiter, key: "l", policy: Self.policy) }

        let allowed = verdicts.filter {
            if case .decided(let decision) = $0 { return decision.allowed }
            return false
        }
        #expect(allowed.count == Self.policy.capacity / 2)
        #expect(verdicts.allSatisfy { if case .decided = $0 { true } else { false } })
    }

    @Test("after Redis restarts, a probe closes the circuit and Redis decides again, with no operator")
    func recovery() throws {
        let server = try RedisServer()
        let fixture = try RedisLimiterFixture(server: server)
        defer { fixture.shutdown() }
        let limiter = Self.limiter(fixture, mode: .closed, errors: Errors())
        server.stop()
        for _ in 0..<5 { _ = fixture.verdict(limiter, key: "r", policy: Self.policy) }
        #expect(limiter.circuit.state == .open)

        try server.start()
        let recovered = eventuallyTrue(within: 10) {
            if case .decided = fixture.verdict(limiter, key: "r", policy: Self.policy) { return true }
            return false
        }

        #expect(recovered)
        #expect(limiter.circuit.state == .closed)
        #expect(try server.cli(["EXISTS", "portal:rl:r"]) == "1", "the decision was made in Redis")
    }
}

/// Polls `condition` every 20 ms until it holds or `seconds` pass.
func eventuallyTrue(within seconds: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(20_000)
    }
    return condition()
}
