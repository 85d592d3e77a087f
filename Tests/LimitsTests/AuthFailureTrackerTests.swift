import Limits
import Testing

@Suite("Brute-force failure tracking")
struct AuthFailureTrackerTests {
    static let second: UInt64 = 1_000_000_000

    @Test("N failures from an address within the window ban it; older failures fall out of the window")
    func addressWindow() {
        let tracker = InMemoryAuthFailureTracker(policy: BruteForcePolicy(maxFailures: 3, windowSeconds: 60))
        #expect(tracker.recordFailure(address: "a", account: nil, now: 0).isEmpty)
        #expect(tracker.recordFailure(address: "a", account: nil, now: 10 * Self.second).isEmpty)
        // The first failure is 61 s old by now: only two count.
        #expect(tracker.recordFailure(address: "a", account: nil, now: 61 * Self.second).isEmpty)
        let verdict = tracker.recordFailure(address: "a", account: nil, now: 62 * Self.second)
        #expect(verdict.addressBans.map(\.address) == ["a"] && verdict.accountLock == nil)
        #expect(verdict.addressBans.first?.ban == BruteForceBan(seconds: 900, offense: 1, cause: .address, failures: 3))
        // Other addresses are untouched.
        #expect(tracker.recordFailure(address: "b", account: nil, now: 62 * Self.second).isEmpty)
    }

    @Test("N failures against one account lock it and ban only the addresses with two of them, never the next one")
    func accountWindow() {
        let tracker = InMemoryAuthFailureTracker(policy: BruteForcePolicy(maxFailures: 4))
        #expect(tracker.recordFailure(address: "10.0.0.1", account: "alice", now: 1).isEmpty)
        #expect(tracker.recordFailure(address: "10.0.0.1", account: "alice", now: 2).isEmpty)
        #expect(tracker.recordFailure(address: "10.0.0.2", account: "alice", now: 3).isEmpty)
        let verdict = tracker.recordFailure(address: "10.0.0.9", account: "alice", now: 5)
        #expect(verdict.addressBans.map(\.address) == ["10.0.0.1"])
        #expect(verdict.addressBans.first?.ban.failures == 2)
        #expect(verdict.accountLock == BruteForceBan(seconds: 900, offense: 1, cause: .account, failures: 4))
        // The account's window starts over: the next guesser is not banned for the others' failures.
        #expect(tracker.recordFailure(address: "10.0.0.10", account: "alice", now: 6).isEmpty)
        #expect(tracker.recordFailure(address: "10.0.0.11", account: "bob", now: 7).isEmpty)
    }

    @Test("a success forgets the account's failures; an address banned on its own answers for its account failures")
    func successAndOwnBan() {
        let tracker = InMemoryAuthFailureTracker(policy: BruteForcePolicy(maxFailures: 3))
        #expect(tracker.recordFailure(address: "x", account: "alice", now: 1).isEmpty)
        #expect(tracker.recordFailure(address: "y", account: "alice", now: 2).isEmpty)
        tracker.forgetFailures(account: "alice")
        #expect(tracker.recordFailure(address: "victim", account: "alice", now: 3).isEmpty)
        #expect(tracker.recordFailure(address: "z", account: "alice", now: 4).isEmpty)
        // Three from one address: that address is banned and the account is not locked.
        #expect(tracker.recordFailure(address: "w", account: "carol", now: 5).isEmpty)
        #expect(tracker.recordFailure(address: "w", account: "carol", now: 6).isEmpty)
        let own = tracker.recordFailure(address: "w", account: "carol", now: 7)
        #expect(own.addressBans.map(\.address) == ["w"] && own.accountLock == nil)
        #expect(tracker.recordFailure(address: "v", account: "carol", now: 8).isEmpty)
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
            seconds.append(
                tracker.recordFailure(address: "a", account: nil, now: now).addressBans.first?.ban.seconds ?? 0)
        }
        #expect(seconds == [100, 200, 400, 500])
        #expect(
            tracker.recordFailure(address: "a", account: nil, now: 5000 * Self.second).addressBans.first?.ban.offense
                == 1)
    }

    @Test(
        "a smaller limit (a gateway's share while Redis is away) bans sooner; the full limit still sees every failure")
    func shareLimit() {
        let tracker = InMemoryAuthFailureTracker(policy: BruteForcePolicy(maxFailures: 6))
        #expect(tracker.recordFailure(address: "a", account: nil, now: 1, limit: 3).isEmpty)
        #expect(tracker.recordFailure(address: "a", account: nil, now: 2, limit: 3).isEmpty)
        #expect(tracker.recordFailure(address: "a", account: nil, now: 3, limit: 3).addressBans.map(\.address) == ["a"])
        for now in UInt64(4)...8 { #expect(tracker.recordFailure(address: "b", account: "bob", now: now).isEmpty) }
        let sixth = tracker.recordFailure(address: "b", account: "bob", now: 9)
        #expect(sixth.addressBans.first?.ban == BruteForceBan(seconds: 900, offense: 1, cause: .address, failures: 6))
        // A limit past maxFailures is maxFailures; one below 1 is 1.
        #expect(tracker.recordFailure(address: "c", account: nil, now: 10, limit: 0).addressBans.count == 1)
        for now in UInt64(11)...15 {
            #expect(tracker.recordFailure(address: "d", account: nil, now: now, limit: 99).isEmpty)
        }
        #expect(tracker.recordFailure(address: "d", account: nil, now: 16, limit: 99).addressBans.count == 1)
    }
}
