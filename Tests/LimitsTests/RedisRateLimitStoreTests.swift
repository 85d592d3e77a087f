import Foundation
import Limits
import Net
import PortalCore
import Redis
import RedisTestSupport
import Testing

/// The GCRA script against a real redis-server: the same answers as in memory, on Redis's clock.
@Suite("Redis rate-limit store")
struct RedisRateLimitStoreTests {
    static func decide(
        _ store: RedisRateLimitStore, _ fixture: RedisLimiterFixture, key: String, policy: RateLimitPolicy
    ) -> Result<RateLimitDecision, RedisError> {
        fixture.wait { loop, done in store.decide(key: key, policy: policy, on: loop, completion: done) }
    }

    @Test("a burst gets the in-memory limiter's decisions and headers, then 429 numbers")
    func sameAsMemory() throws {
        let server = try RedisServer()
        let fixture = try RedisLimiterFixture(server: server)
        defer { fixture.shutdown() }
        let store = RedisRateLimitStore(client: fixture.client)
        let policy = RateLimitPolicy(requestsPerMinute: 6, burst: 4)
        let memory = InMemoryRateLimiter(clock: ManualClock())

        for i in 0..<(policy.capacity + 2) {
            let shared = try Self.decide(store, fixture, key: "203.0.113.9", policy: policy).get()
            let local = memory.decide(key: "203.0.113.9", policy: policy)
            #expect(shared.allowed == local.allowed, "request \(i)")
            #expect(shared.limit == local.limit && shared.remaining == local.remaining, "request \(i)")
            // Redis's clock moved a few microseconds between calls; the rounded-up seconds agree within one.
            #expect(abs(shared.resetSeconds - local.resetSeconds) <= 1, "request \(i)")
            #expect(abs(shared.retryAfterSeconds - local.retryAfterSeconds) <= 1, "request \(i)")
        }
        let denied = try Self.decide(store, fixture, key: "203.0.113.9", policy: policy).get()
        #expect(!denied.allowed && denied.retryAfterSeconds >= 9 && denied.retryAfterSeconds <= 10)
    }

    @Test("the key lives in Redis under the prefix and expires when the allowance is full again")
    func keyAndExpiry() throws {
        let server = try RedisServer()
        let fixture = try RedisLimiterFixture(server: server)
        defer { fixture.shutdown() }
        let store = RedisRateLimitStore(client: fixture.client, keyPrefix: "blue:")
        let policy = RateLimitPolicy(requestsPerMinute: 60, burst: 2)

        _ = try Self.decide(store, fixture, key: "198.51.100.1", policy: policy).get()
        let ttl = Int(try server.cli(["PTTL", "blue:rl:198.51.100.1"])) ?? -1

        #expect(ttl > 0 && ttl <= 1_000, "PTTL \(ttl)")
        #expect(try server.cli(["EXISTS", "portal:rl:198.51.100.1"]) == "0")
    }

    @Test("the stored TAT is on Redis's clock (TIME), not the gateway's: skewed gateways cannot disagree")
    func redisClock() throws {
        let server = try RedisServer()
        let fixture = try RedisLimiterFixture(server: server)
        defer { fixture.shutdown() }
        let store = RedisRateLimitStore(client: fixture.client)
        let policy = RateLimitPolicy(requestsPerMinute: 6, burst: 0)

        _ = try Self.decide(store, fixture, key: "clock", policy: policy).get()
        let stored = Double(try server.cli(["GET", "portal:rl:clock"])) ?? 0
        let time = try server.cli(["TIME"]).split(separator: "\n").compactMap { Double($0) }
        let redisNow = time[0] * 1_000_000 + time[1]

        // TAT = Redis's now at the decision + T (10 s), in microseconds; the decision was a moment ago.
        #expect(abs(stored - (redisNow + 10_000_000)) < 2_000_000, "stored \(stored), Redis now \(redisNow)")
    }

    @Test("after SCRIPT FLUSH the store falls back to EVAL, which loads the script again")
    func noscriptFallback() throws {
        let server = try RedisServer()
        let fixture = try RedisLimiterFixture(server: server)
        defer { fixture.shutdown() }
        let store = RedisRateLimitStore(client: fixture.client)
        let policy = RateLimitPolicy(requestsPerMinute: 60, burst: 5)
        _ = try Self.decide(store, fixture, key: "a", policy: policy).get()
        let sha = try server.cli(["SCRIPT", "LOAD", RedisRateLimitStore.scriptSource])

        _ = try server.cli(["SCRIPT", "FLUSH"])
        #expect(try server.cli(["SCRIPT", "EXISTS", sha]) == "0")
        let decision = try Self.decide(store, fixture, key: "a", policy: policy).get()

        #expect(decision.allowed && decision.remaining == 4)
        #expect(try server.cli(["SCRIPT", "EXISTS", sha]) == "1")
        #expect(sha == RedisRateLimitStore.scriptSHA1, "the SHA-1 Redis computes is the one EVALSHA sends")
    }

    @Test("two gateways (two clients) share one allowance: Redis's clock decides, not theirs")
    func twoClientsOneAllowance() throws {
        let server = try RedisServer()
        let first = try RedisLimiterFixture(server: server)
        let second = try RedisLimiterFixture(server: server)
        defer {
            first.shutdown()
            second.shutdown()
        }
        let policy = RateLimitPolicy(requestsPerMinute: 1, burst: 5)
        var allowed = 0
        for i in 0..<20 {
            let fixture = i.isMultiple(of: 2) ? first : second
            let store = RedisRateLimitStore(client: fixture.client)
            if try Self.decide(store, fixture, key: "shared", policy: policy).get().allowed { allowed += 1 }
        }
        #expect(allowed == policy.capacity)
    }

    @Test("a stopped server makes the decision fail, never hang")
    func stoppedServer() throws {
        let server = try RedisServer()
        let fixture = try RedisLimiterFixture(server: server)
        defer { fixture.shutdown() }
        let store = RedisRateLimitStore(client: fixture.client)
        server.stop()

        let result = Self.decide(store, fixture, key: "k", policy: RateLimitPolicy())

        guard case .failure(let error) = result else {
            Issue.record("expected a failure, got \(result)")
            return
        }
        #expect([.connectFailed, .connectionLost, .unavailable].contains(error.kind))
    }
}
