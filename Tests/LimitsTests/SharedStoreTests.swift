import Foundation
import Limits
import Net
import PortalCore
import Redis
import RedisTestSupport
import Testing

/// The Redis ban and revocation stores, on real Redis.
@Suite("Shared ban and revocation stores")
struct SharedStoreTests {
    enum Kind: String, CaseIterable {
        case redis
    }

    /// A store pair of one kind on a fixture's loop; Redis ones talk to a fresh redis-server.
    final class Stores {
        let server: RedisServer
        let fixture: RedisLimiterFixture
        let bans: any SharedBanStore
        let revocations: any RevocationStore

        init(_ kind: Kind) throws {
            server = try RedisServer()
            fixture = try RedisLimiterFixture(server: server)
            bans = RedisBanStore(client: fixture.client)
            revocations = RedisRevocationStore(client: fixture.client)
        }

        /// Seconds left on `key`'s ban as the store's snapshot says, or nil.
        func status(_ key: String) throws -> Int? {
            let bans = self.bans
            let snapshot = try fixture.wait { loop, done in
                bans.snapshot(ifChangedSince: -1, on: loop, completion: done)
            }
            .get()
            return snapshot.entries?.first { $0.key == key }.map { Int(($0.value + 999) / 1000) }
        }

        func ban(_ key: String, seconds: Int) throws {
            let bans = self.bans
            try fixture.wait { loop, done in
                bans.ban(key, forSeconds: seconds, reason: "test", on: loop, completion: done)
            }
            .get()
        }

        func list() throws -> [BanList.Entry] {
            let bans = self.bans
            return try fixture.wait { loop, done in bans.list(on: loop, completion: done) }.get()
        }

        func lift(_ key: String) throws -> Bool {
            let bans = self.bans
            return try fixture.wait { loop, done in bans.lift(key, on: loop, completion: done) }.get()
        }

        func revoke(_ id: String, until: Int64) throws {
            let revocations = self.revocations
            try fixture.wait { loop, done in revocations.revoke(id, untilUnixSeconds: until, on: loop, completion: done)
            }
            .get()
        }

        func isRevoked(_ id: String) throws -> Bool {
            let revocations = self.revocations
            let snapshot = try fixture.wait { loop, done in
                revocations.snapshot(ifChangedSince: -1, on: loop, completion: done)
            }.get()
            return snapshot.entries?.contains { $0.key == id } == true
        }

        func shutdown() { fixture.shutdown() }
    }

    static var now: Int64 { Int64(Date().timeIntervalSince1970) }

    @Test(
        "a ban holds for its time, a later shorter ban does not shorten it, and lift ends it", arguments: Kind.allCases)
    func bans(kind: Kind) throws {
        let stores = try Stores(kind)
        defer { stores.shutdown() }

        #expect(try stores.status("203.0.113.5") == nil)
        try stores.ban("203.0.113.5", seconds: 600)
        try stores.ban("203.0.113.5", seconds: 5)
        let banned = try stores.status("203.0.113.5")
        #expect((595...600).contains(banned ?? 0), "\(String(describing: banned))")
        #expect(try stores.status("203.0.113.6") == nil)

        try stores.ban("198.51.100.7", seconds: 1)
        let listed = try stores.list()
        #expect(listed.map(\.key) == ["198.51.100.7", "203.0.113.5"])
        #expect(listed.map(\.reason) == ["test", "test"])
        #expect((595...600).contains(listed.last?.remainingSeconds ?? 0))

        #expect(try stores.lift("203.0.113.5"))
        #expect(try stores.status("203.0.113.5") == nil)
        #expect(try !stores.lift("203.0.113.5"))
        usleep(1_100_000)
        #expect(try stores.list().isEmpty, "a lifted ban and an ended one leave the list")
        #expect(try stores.server.cli(["ZCARD", "portal:bans"]) == "0")
    }

    @Test("a revoked id stays revoked until the token's expiry; an expired one is not stored", arguments: Kind.allCases)
    func revocations(kind: Kind) throws {
        let stores = try Stores(kind)
        defer { stores.shutdown() }

        try stores.revoke("jti-1", until: Self.now + 3_600)
        try stores.revoke("jti-old", until: Self.now - 1)

        #expect(try stores.isRevoked("jti-1"))
        #expect(try !stores.isRevoked("jti-old"))
        #expect(try !stores.isRevoked("jti-2"))
        if kind == .redis {
            let expireTime = Int64(try stores.server.cli(["EXPIRETIME", "portal:revoked:jti-1"])) ?? 0
            #expect(expireTime == Self.now + 3_600 || expireTime == Self.now + 3_599)
            #expect(try stores.server.cli(["EXISTS", "portal:revoked:jti-old"]) == "0")
        }
    }

    @Test("snapshots: the whole list when the version moved, nothing when it did not; expired entries leave")
    func snapshots() throws {
        let stores = try Stores(.redis)
        defer { stores.shutdown() }
        let bans = stores.bans
        let revocations = stores.revocations
        func banSnapshot(_ since: Int64) throws -> SharedSnapshot {
            try stores.fixture.wait { loop, done in bans.snapshot(ifChangedSince: since, on: loop, completion: done) }
                .get()
        }
        func revocationSnapshot(_ since: Int64) throws -> SharedSnapshot {
            try stores.fixture.wait { loop, done in
                revocations.snapshot(ifChangedSince: since, on: loop, completion: done)
            }.get()
        }

        let empty = try banSnapshot(-1)
        #expect(empty.version == 0 && empty.entries?.isEmpty == true)
        try stores.ban("a", seconds: 600)
        try stores.ban("b", seconds: 1)
        try stores.ban("a", seconds: 5)  // shorter: changes nothing, not even the version
        let two = try banSnapshot(0)
        #expect(two.version == 2 && two.entries?.map(\.key).sorted() == ["a", "b"])
        #expect((595_000...600_000).contains(two.entries?.first { $0.key == "a" }?.value ?? 0))
        #expect(try banSnapshot(2).entries == nil)
        #expect(try stores.lift("a"))
        usleep(1_100_000)
        let none = try banSnapshot(2)
        #expect(none.version == 3 && none.entries?.isEmpty == true, "a lifted and an ended ban are gone")

        try stores.revoke("j1", until: Self.now + 600)
        let revoked = try revocationSnapshot(-1)
        #expect(revoked.version == 1 && revoked.entries?.map(\.key) == ["j1"])
        #expect(revoked.entries?.first?.value == Self.now + 600 || revoked.entries?.first?.value == Self.now + 599)
        #expect(try revocationSnapshot(1).entries == nil)
    }

    @Test("with Redis stopped every call fails; restarted, the stored bans are there again (with AOF)")
    func redisDown() throws {
        let server = try RedisServer(extraConfiguration: ["appendonly yes", "appendfsync always"])
        let fixture = try RedisLimiterFixture(server: server)
        defer { fixture.shutdown() }
        let bans = RedisBanStore(client: fixture.client)
        try fixture.wait { loop, done in bans.ban("k", forSeconds: 60, reason: "r", on: loop, completion: done) }.get()
        server.stop()
        let snapshot = fixture.wait { loop, done in bans.snapshot(ifChangedSince: -1, on: loop, completion: done) }
        let ban = fixture.wait { loop, done in bans.ban("k2", forSeconds: 60, reason: "r", on: loop, completion: done) }
        guard case .failure = snapshot, case .failure = ban else {
            Issue.record("calls with Redis down must fail, got \(snapshot), \(ban)")
            return
        }
        try server.start()
        let deadline = Date().addingTimeInterval(5)
        var again = fixture.wait { loop, done in bans.snapshot(ifChangedSince: -1, on: loop, completion: done) }
        while case .failure = again, Date() < deadline {
            usleep(50_000)
            again = fixture.wait { loop, done in bans.snapshot(ifChangedSince: -1, on: loop, completion: done) }
        }
        #expect(try again.get().entries?.map(\.key) == ["k"])
    }
}
