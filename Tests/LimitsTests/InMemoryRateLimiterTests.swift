import Foundation
import Limits
import PortalCore
import Synchronization
import Testing

/// Runs `body(thread)` on `count` real threads at once and waits for all of them.
private func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let group = DispatchGroup()
    for index in 0..<count {
        group.enter()
        let thread = Thread {
            body(index)
            group.leave()
        }
        thread.start()
    }
    group.wait()
}

@Suite("InMemoryRateLimiter")
struct InMemoryRateLimiterTests {
    @Test("keys are limited independently and the injected clock drives recovery")
    func independentKeys() {
        let clock = ManualClock()
        let limiter = InMemoryRateLimiter(clock: clock)
        let policy = RateLimitPolicy(requestsPerMinute: 60, burst: 1)
        let keys = ["203.0.113.7", "2001:db8::1", "", "consumer:\u{0}\u{FFFD}", String(repeating: "k", count: 4_096)]
        for key in keys {
            #expect(limiter.decide(key: key, policy: policy).allowed)
            #expect(limiter.decide(key: key, policy: policy).allowed)
            #expect(!limiter.decide(key: key, policy: policy).allowed)
        }
        clock.advance(nanoseconds: 999_999_999)
        #expect(!limiter.decide(key: keys[0], policy: policy).allowed)
        clock.advance(nanoseconds: 1)
        #expect(limiter.decide(key: keys[0], policy: policy).allowed)
    }

    @Test("idle keys expire: the bounded sweep and purgeExpired shrink the tracked count to zero")
    func idleKeysExpire() {
        let clock = ManualClock()
        let config = InMemoryRateLimiter.Configuration(shardCount: 4, maxKeysPerShard: 1_000, sweepStepsPerCall: 2)
        let limiter = InMemoryRateLimiter(clock: clock, configuration: config)
        let policy = RateLimitPolicy(requestsPerMinute: 60, burst: 5)
        for index in 0..<200 {
            _ = limiter.decide(key: "10.0.0.\(index)", policy: policy)
        }
        #expect(limiter.trackedKeyCount == 200)

        // Not yet expired: 1 ns before the TAT nothing may be dropped.
        clock.advance(nanoseconds: 999_999_999)
        limiter.purgeExpired()
        #expect(limiter.trackedKeyCount == 200)

        // Expired: every call sweeps up to 2 entries of its shard, so 200 calls on one fresh key
        // (which itself stays tracked) drain its shard, and purgeExpired drains the rest.
        clock.advance(nanoseconds: 1)
        let before = limiter.trackedKeyCount
        for _ in 0..<200 {
            _ = limiter.decide(key: "sweeper", policy: RateLimitPolicy(requestsPerMinute: 60_000_000_000, burst: 0))
        }
        #expect(limiter.trackedKeyCount < before)
        limiter.purgeExpired()
        #expect(limiter.trackedKeyCount <= 1)
    }

    @Test("a full shard refuses new keys but never evicts live ones, and takes keys again once they expire")
    func capIsFailSafe() {
        let clock = ManualClock()
        let config = InMemoryRateLimiter.Configuration(shardCount: 1, maxKeysPerShard: 3, sweepStepsPerCall: 0)
        let limiter = InMemoryRateLimiter(clock: clock, configuration: config)
        let policy = RateLimitPolicy(requestsPerMinute: 60, burst: 0)
        for key in ["victim", "a", "b"] {
            #expect(limiter.decide(key: key, policy: policy).allowed)
        }

        // The attacker's fresh keys are refused; the victim's state is still there.
        for index in 0..<50 {
            let refused = limiter.decide(key: "attacker-\(index)", policy: policy)
            #expect(!refused.allowed)
            #expect(refused.retryAfterSeconds == 1)
        }
        #expect(limiter.capacityRefusals == 50)
        #expect(!limiter.decide(key: "victim", policy: policy).allowed)
        #expect(limiter.trackedKeyCount == 3)

        // Once the entries expire, room is made by dropping expired ones only.
        clock.advance(seconds: 1)
        #expect(limiter.decide(key: "newcomer", policy: policy).allowed)
        #expect(limiter.trackedKeyCount == 1)
    }

    @Test("8 threads hammering one key get exactly burst + 1 admissions at one instant")
    func concurrentOneKey() {
        let clock = ManualClock()
        let limiter = InMemoryRateLimiter(clock: clock)
        let policy = RateLimitPolicy(requestsPerMinute: 100, burst: 20)
        let admitted = Atomic<Int>(0)
        onThreads(8) { _ in
            for _ in 0..<2_000 where limiter.decide(key: "198.51.100.1", policy: policy).allowed {
                admitted.add(1, ordering: .relaxed)
            }
        }
        #expect(admitted.load(ordering: .relaxed) == 21)
    }

    @Test("8 threads over many keys: admissions and tracked keys match the arithmetic exactly")
    func concurrentManyKeys() {
        let clock = ManualClock()
        let limiter = InMemoryRateLimiter(clock: clock)
        let policy = RateLimitPolicy(requestsPerMinute: 100, burst: 2)
        let admitted = Atomic<Int>(0)
        // Every thread sends 5 requests to each of 500 keys shared by all threads.
        onThreads(8) { thread in
            for round in 0..<5 {
                for index in 0..<500 {
                    let key = "192.0.2.\((index + thread * 61 + round) % 500)"
                    if limiter.decide(key: key, policy: policy).allowed {
                        admitted.add(1, ordering: .relaxed)
                    }
                }
            }
        }
        #expect(admitted.load(ordering: .relaxed) == 500 * 3)
        #expect(limiter.trackedKeyCount == 500)
    }
}
