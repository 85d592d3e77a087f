import Limits
import Testing

@Suite("Brute-force failure tracking")
struct AuthFailureTrackerTests {
    static let second: UInt64 = 1_000_000_000

    @Test("N failures from an address within the window ban it; older failures fall out of the window")
    func addressWindow() {
        let tracker = InMemoryAuthFailureTracker(policy: BruteForcePolicy(maxFailures: 3, windowSeconds: 60))
        #expect(tracker.recordFailure(address: "a", account: nil, now: 0) == nil)
        #expect(tracker.recordFailure(address: "a", account: nil, now: 10 * Self.second) == nil)
        // The first failure is 61 s old by now: only two count.
        #expect(tracker.recordFailure(address: "a", account: nil, now: 61 * Self.second) == nil)
        let ban = tracker.recordFailure(address: "a", account: nil, now: 62 * Self.second)
        #expect(ban == BruteForceBan(seconds: 900, offense: 1, cause: .address, failures: 3))
        // Other addresses are untouched.
        #expect(tracker.recordFailure(address: "b", account: nil, now: 62 * Self.second) == nil)
    }

    @Test("N failures against one account from many addresses ban the address that reached N")
    func accountWindow() {
        let tracker = InMemoryAuthFailureTracker(policy: BruteForcePolicy(maxFailures: 4))
        for index in 0..<3 {
            #expect(tracker.recordFailure(address: "10.0.0.\(index)", account: "alice", now: UInt64(index)) == nil)
        }
        let ban = tracker.recordFailure(address: "10.0.0.9", account: "alice", now: 5)
        #expect(ban?.cause == .account && ban?.failures == 4)
        // While the account stays hot, the next guesser is banned at its first failure.
        #expect(tracker.recordFailure(address: "10.0.0.10", account: "alice", now: 6)?.cause == .account)
        #expect(tracker.recordFailure(address: "10.0.0.11", account: "bob", now: 7) == nil)
    }

    @Test("repeat bans double up to the maximum; a day without bans starts over")
    func escalation() {
        let policy = BruteForcePolicy(
            maxFailures: 1, windowSeconds: 60, baseBanSeconds: 100, maxBanSeconds: 500, offenseMemorySeconds: 3600)
        #expect((1...5).map { policy.banSeconds(offense: $0) } == [100, 200, 400, 500, 500])
        let tracker = InMemoryAuthFailureTracker(policy: policy)
        var seconds: [Int] = []
        for step in 0..<4 {
            let now = UInt64(step) * 200 * Self.second
            seconds.append(tracker.recordFailure(address: "a", account: nil, now: now)?.seconds ?? 0)
        }
        #expect(seconds == [100, 200, 400, 500])
        #expect(tracker.recordFailure(address: "a", account: nil, now: 5000 * Self.second)?.offense == 1)
    }
}
