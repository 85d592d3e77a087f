import Limits
import Testing

/// Runs `count` requests at one instant and returns the decisions, carrying the TAT along.
private func burst(_ count: Int, policy: RateLimitPolicy, now: UInt64, tat: inout UInt64?) -> [RateLimitDecision] {
    (0..<count).map { _ in
        let (decision, next) = GCRA.decide(theoreticalArrival: tat, now: now, policy: policy)
        tat = next
        return decision
    }
}

@Suite("GCRA arithmetic")
struct GCRATests {
    let start: UInt64 = 5_000_000_000

    @Test("a policy's interval is 60 s over the rate, rounded up, and its tolerance is burst intervals")
    func policyNumbers() {
        let table: [(rate: Int, burst: Int, interval: UInt64, tolerance: UInt64)] = [
            (100, 20, 600_000_000, 12_000_000_000),
            (7, 0, 8_571_428_572, 0),
            (1, 3, 60_000_000_000, 180_000_000_000),
            (60_000_000_000, 1, 1, 1),
        ]
        for row in table {
            let policy = RateLimitPolicy(requestsPerMinute: row.rate, burst: row.burst)
            #expect(policy.emissionIntervalNanoseconds == row.interval)
            #expect(policy.toleranceNanoseconds == row.tolerance)
            #expect(policy.capacity == row.burst + 1)
        }
    }

    @Test("a fresh key gets exactly burst + 1 at once, with remaining counting down to zero")
    func freshBurst() {
        for (rate, size) in [(100, 20), (7, 0), (1, 1), (600, 5)] {
            let policy = RateLimitPolicy(requestsPerMinute: rate, burst: size)
            var tat: UInt64?
            let decisions = burst(size + 3, policy: policy, now: start, tat: &tat)
            #expect(decisions.prefix(size + 1).allSatisfy { $0.allowed })
            #expect(decisions.dropFirst(size + 1).allSatisfy { !$0.allowed })
            #expect(decisions.prefix(size + 1).map(\.remaining) == Array((0...size).reversed()))
            #expect(decisions.allSatisfy { $0.limit == size + 1 && $0.remaining >= 0 })
        }
    }

    @Test("the default policy: 21 at once, then retry after 1 s, reset after 12.6 s rounded up")
    func defaultPolicyHeaders() {
        let policy = RateLimitPolicy()
        var tat: UInt64?
        let decisions = burst(22, policy: policy, now: start, tat: &tat)
        #expect(decisions[0].resetSeconds == 1)
        #expect(decisions[20].allowed && decisions[20].remaining == 0 && decisions[20].resetSeconds == 13)
        #expect(!decisions[21].allowed)
        #expect(decisions[21].retryAfterSeconds == 1)
        #expect(decisions[21].resetSeconds == 13)
    }

    @Test("after the burst, waiting exactly T admits one more and T minus 1 ns does not")
    func recoveryBoundary() {
        for rate in [100, 7, 1, 3_600] {
            let policy = RateLimitPolicy(requestsPerMinute: rate, burst: 2)
            let interval = policy.emissionIntervalNanoseconds
            var tat: UInt64?
            _ = burst(3, policy: policy, now: start, tat: &tat)
            let early = GCRA.decide(theoreticalArrival: tat, now: start + interval - 1, policy: policy)
            #expect(!early.decision.allowed)
            #expect(early.decision.retryAfterSeconds == 1)
            #expect(early.theoreticalArrival == tat)
            let onTime = GCRA.decide(theoreticalArrival: tat, now: start + interval, policy: policy)
            #expect(onTime.decision.allowed)
            #expect(onTime.decision.remaining == 0)
        }
    }

    @Test("7 per minute: retry after 9 s, and denials in between never push the wait further")
    func fractionalRateRetryAfter() {
        let policy = RateLimitPolicy(requestsPerMinute: 7, burst: 0)
        var tat: UInt64?
        _ = burst(1, policy: policy, now: start, tat: &tat)
        // k denials, one per second: the wait counts down 9, 8, 7, ... and never goes to 0.
        for k in 0..<9 {
            let now = start + UInt64(k) * 1_000_000_000
            let (decision, next) = GCRA.decide(theoreticalArrival: tat, now: now, policy: policy)
            #expect(!decision.allowed)
            #expect(decision.retryAfterSeconds == 9 - k)
            #expect(decision.retryAfterSeconds >= 1)
            tat = next
        }
        let admitted = GCRA.decide(theoreticalArrival: tat, now: start + 8_571_428_572, policy: policy)
        #expect(admitted.decision.allowed)
    }

    @Test("1 per minute: a second request waits 60 s, and after 59.999999999 s still 1 s")
    func onePerMinute() {
        let policy = RateLimitPolicy(requestsPerMinute: 1, burst: 0)
        var tat: UInt64?
        let first = burst(2, policy: policy, now: start, tat: &tat)
        #expect(first[0].allowed && first[0].resetSeconds == 60)
        #expect(!first[1].allowed && first[1].retryAfterSeconds == 60)
        let late = GCRA.decide(theoreticalArrival: tat, now: start + 59_999_999_999, policy: policy)
        #expect(!late.decision.allowed && late.decision.retryAfterSeconds == 1)
    }

    @Test("a huge burst is admitted in full and its reset time is reported, not overflowed")
    func hugeBurst() {
        let policy = RateLimitPolicy(requestsPerMinute: 1, burst: 1_000_000)
        let fresh = GCRA.decide(theoreticalArrival: nil, now: start, policy: policy)
        #expect(fresh.decision.allowed && fresh.decision.remaining == 1_000_000)
        // A key that has used all but one of its allowance.
        let nearlyFull = start + policy.toleranceNanoseconds
        let last = GCRA.decide(theoreticalArrival: nearlyFull, now: start, policy: policy)
        #expect(last.decision.allowed && last.decision.remaining == 0)
        #expect(last.decision.resetSeconds == 60_000_060)
        let denied = GCRA.decide(theoreticalArrival: last.theoreticalArrival, now: start, policy: policy)
        #expect(!denied.decision.allowed && denied.decision.retryAfterSeconds == 60)
    }

    @Test("an absurd burst is clamped to a tolerance of 2^62 ns instead of overflowing")
    func clampedBurst() {
        let policy = RateLimitPolicy(requestsPerMinute: 1, burst: Int.max)
        #expect(policy.toleranceNanoseconds <= RateLimitPolicy.maximumToleranceNanoseconds)
        #expect(policy.burst == Int(RateLimitPolicy.maximumToleranceNanoseconds / 60_000_000_000))
        let decision = GCRA.decide(theoreticalArrival: UInt64.max - 1, now: UInt64.max - 1, policy: policy)
        #expect(decision.decision.allowed)
        #expect(decision.theoreticalArrival == UInt64.max)
    }

    @Test("a stored TAT in the past counts as a full allowance")
    func stalePastState() {
        let policy = RateLimitPolicy(requestsPerMinute: 60, burst: 4)
        let decision = GCRA.decide(theoreticalArrival: 1, now: start, policy: policy)
        #expect(decision.decision.allowed && decision.decision.remaining == 4)
    }
}
