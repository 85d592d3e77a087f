import Limits
import PortalCore
import Testing

@Suite("BanList")
struct BanListTests {
    @Test("a ban holds until its end on the clock, counts down in whole seconds rounded up, then expires")
    func expiry() {
        let clock = ManualClock()
        let bans = BanList(clock: clock)
        #expect(bans.remainingSeconds("203.0.113.9") == nil)
        #expect(bans.ban("203.0.113.9", forSeconds: 10, reason: "brute force"))
        #expect(bans.remainingSeconds("203.0.113.9") == 10)
        clock.advance(nanoseconds: 1)
        #expect(bans.remainingSeconds("203.0.113.9") == 10)
        clock.advance(nanoseconds: 9_999_999_998)
        #expect(bans.remainingSeconds("203.0.113.9") == 1)
        #expect(bans.activeBanCount == 1)
        clock.advance(nanoseconds: 1)
        #expect(!bans.isBanned("203.0.113.9"))
        #expect(bans.activeBanCount == 0)
        #expect(bans.list().isEmpty)
    }

    @Test("re-banning extends but never shortens, lift ends it, list is sorted with reasons")
    func banLiftList() {
        let clock = ManualClock()
        let bans = BanList(clock: clock)
        bans.ban("b", forSeconds: 100, reason: "manual")
        bans.ban("b", forSeconds: 5, reason: "manual again")
        bans.ban("a", forSeconds: 5, reason: "scan")
        #expect(bans.remainingSeconds("b") == 100)
        #expect(bans.list().map(\.key) == ["a", "b"])
        #expect(bans.list().map(\.reason) == ["scan", "manual again"])
        #expect(bans.lift("a"))
        #expect(!bans.lift("a"))
        #expect(!bans.isBanned("a"))
        #expect(bans.activeBanCount == 1)
    }

    @Test("hostile durations: zero, negative and Int.max seconds neither crash nor ban for nothing")
    func hostileDurations() {
        let clock = ManualClock()
        let bans = BanList(clock: clock)
        let table: [(seconds: Int, banned: Bool)] = [(0, false), (-5, false), (Int.max, true), (1, true)]
        for (index, row) in table.enumerated() {
            bans.ban("k\(index)", forSeconds: row.seconds, reason: "t")
            #expect(bans.isBanned("k\(index)") == row.banned)
        }
    }

    @Test("a full list refuses a new ban rather than evicting a live one, and makes room from expired ones")
    func capacity() {
        let clock = ManualClock()
        let bans = BanList(clock: clock, maxBans: 2)
        #expect(bans.ban("a", forSeconds: 10, reason: "t"))
        #expect(bans.ban("b", forSeconds: 20, reason: "t"))
        #expect(!bans.ban("c", forSeconds: 10, reason: "t"))
        #expect(bans.isBanned("a") && bans.isBanned("b") && !bans.isBanned("c"))
        clock.advance(seconds: 10)
        #expect(bans.ban("c", forSeconds: 10, reason: "t"))
        #expect(bans.list().map(\.key) == ["b", "c"])
    }
}
