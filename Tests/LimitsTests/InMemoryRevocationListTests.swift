import Limits
import PortalCore
import Testing

@Suite("InMemoryRevocationList")
struct InMemoryRevocationListTests {
    @Test("revoked ids are refused until their tokens expire; merges add and forget, never drop live ones")
    func revokeAndMerge() {
        let clock = ManualClock(unixSeconds: 1000)
        let list = InMemoryRevocationList(clock: clock, leewaySeconds: 0)
        #expect(!list.isRevoked("a") && list.count == 0)
        list.revoke("a", untilUnixSeconds: 1100)
        #expect(list.isRevoked("a") && !list.isRevoked("b"))
        // A durable list from the store that lacks "a" (written a moment ago here) does not drop it.
        list.merge([("b", 1050), ("c", 900)])
        #expect(list.isRevoked("a") && list.isRevoked("b") && !list.isRevoked("c") && list.count == 2)
        clock.advance(seconds: 60)
        list.merge([])
        #expect(list.isRevoked("a") && !list.isRevoked("b") && list.count == 1)
    }

    @Test("a revocation outlives its token's exp by the leeway, during which a verifier still accepts the token")
    func leeway() {
        let clock = ManualClock(unixSeconds: 1000)
        let list = InMemoryRevocationList(clock: clock)
        #expect(list.leewaySeconds == 60)
        list.revoke("a", untilUnixSeconds: 1000)
        // From the store: "b" expires now (a verifier accepts it 60 s more), "c" expired 61 s ago.
        list.merge([("b", 1000), ("c", 939)])
        #expect(list.isRevoked("a") && list.isRevoked("b") && !list.isRevoked("c"))
        clock.advance(seconds: 59)
        list.merge([])
        #expect(list.isRevoked("a") && list.isRevoked("b"))
        clock.advance(seconds: 1)
        list.merge([])
        #expect(!list.isRevoked("a") && !list.isRevoked("b") && list.count == 0)
    }
}
