import Crypto
import Foundation
import Net
import PortalCore
import RESP
import Redis
import RedisTestSupport
import Testing

@testable import Limits

/// The failure-count script against a real redis-server: the in-memory tracker's decisions, on Redis's clock
/// (pinned here where the window's edge is the point).
@Suite("Failure counts in Redis")
struct RedisAuthFailureStoreTests {
    static let second: Int64 = 1_000_000
    /// The credential key the stores here digest accounts with.
    static let accountKey = Array("limits-tests-credential-key-32-bytes!".utf8)

    /// A store on a fresh server, and ways to call it.
    final class Counts {
        let server: RedisServer
        let fixture: RedisLimiterFixture
        let store: RedisAuthFailureStore
        let policy: BruteForcePolicy

        init(_ policy: BruteForcePolicy) throws {
            server = try RedisServer()
            fixture = try RedisLimiterFixture(server: server)
            store = RedisAuthFailureStore(client: fixture.client, accountKey: RedisAuthFailureStoreTests.accountKey)
            self.policy = policy
        }

        /// One failure on Redis's clock, as the gateway counts it.
        func record(
            _ address: String, _ account: String? = nil, lockKey: String? = nil
        ) throws -> RedisAuthFailureStore.Answer {
            let store = store
            let policy = policy
            return try fixture.wait { loop, done in
                store.record(
                    address: address, account: account, lockKey: lockKey, policy: policy, minAccountShare: 2,
                    on: loop, completion: done)
            }
            .get()
        }

        /// One failure with the script's clock pinned at `microseconds` since the epoch.
        func record(
            _ address: String, _ account: String? = nil, at microseconds: Int64
        ) throws -> RedisAuthFailureStore.Answer {
            let clock = "{'\(microseconds / RedisAuthFailureStoreTests.second)', '\(microseconds % 1_000_000)'}"
            let failure = RedisAuthFailureStore.Failure(
                address: address, account: account, lockKey: nil, policy: policy, minAccountShare: 2)
            let command = store.command(AuthFailureScript.source(clock: clock), named: "EVAL", failure)
            let reply = fixture.client.sendAndWait(command, on: fixture.loop)
            return try RedisAuthFailureStore.answer(reply, policy: policy).get()
        }

        func forget(account: String) throws {
            let store = store
            try fixture.wait { loop, done in store.forget(account: account, on: loop, completion: done) }.get()
        }

        func shutdown() { fixture.shutdown() }
    }

    static func ban(
        _ address: String, _ cause: BruteForceBan.Cause, offense: Int = 1, failures: Int, seconds: Int = 900
    ) -> BruteForceVerdict.AddressBan {
        .init(
            address: address, ban: BruteForceBan(seconds: seconds, offense: offense, cause: cause, failures: failures))
    }

    @Test("a failure counts while it is less than the window old: at window − 1 µs it still bans, at the window not")
    func windowEdge() throws {
        let counts = try Counts(BruteForcePolicy(maxFailures: 3, windowSeconds: 60))
        defer { counts.shutdown() }
        let start: Int64 = 1_700_000_000 * Self.second
        let window = 60 * Self.second

        #expect(try counts.record("192.0.2.1", at: start).verdict.isEmpty)
        #expect(try counts.record("192.0.2.1", at: start + 30 * Self.second).verdict.isEmpty)
        let inside = try counts.record("192.0.2.1", at: start + window - 1)
        #expect(inside.verdict.addressBans == [Self.ban("192.0.2.1", .address, failures: 3)])

        #expect(try counts.record("192.0.2.2", at: start).verdict.isEmpty)
        #expect(try counts.record("192.0.2.2", at: start + 30 * Self.second).verdict.isEmpty)
        // Exactly a window old, the first failure is out: two count.
        #expect(try counts.record("192.0.2.2", at: start + window).verdict.isEmpty)
        let next = try counts.record("192.0.2.2", at: start + window + 1)
        #expect(next.verdict.addressBans == [Self.ban("192.0.2.2", .address, failures: 3)])

        // The account's window has the same edge: three addresses, one failure each, lock it inside it only.
        #expect(try counts.record("198.51.100.1", "alice", at: start).verdict.isEmpty)
        #expect(try counts.record("198.51.100.2", "alice", at: start + 30 * Self.second).verdict.isEmpty)
        #expect(try counts.record("198.51.100.3", "alice", at: start + window).verdict.isEmpty)
        let locked = try counts.record("198.51.100.4", "alice", at: start + window + 30 * Self.second - 1)
        #expect(locked.verdict.accountLock == BruteForceBan(seconds: 900, offense: 1, cause: .account, failures: 3))
        #expect(locked.verdict.addressBans.isEmpty, "one failure each is nobody's real share")
    }

    @Test("a list keeps its newest maxFailures times and expires a window after the last; offenses a day after")
    func lifetimes() throws {
        let counts = try Counts(BruteForcePolicy(maxFailures: 3, windowSeconds: 60))
        defer { counts.shutdown() }
        for _ in 0..<2 { _ = try counts.record("192.0.2.9", "alice") }
        let ttl = Int(try counts.server.cli(["PTTL", "portal:failures:192.0.2.9"])) ?? 0
        #expect((59_000...60_000).contains(ttl), "PTTL \(ttl)")
        #expect(try counts.server.cli(["LLEN", "portal:failures:192.0.2.9"]) == "2")

        _ = try counts.record("192.0.2.9", "alice")
        #expect(try counts.server.cli(["EXISTS", "portal:failures:192.0.2.9"]) == "0", "a ban empties the window")
        let offenseTTL = Int(try counts.server.cli(["TTL", "portal:offenses:192.0.2.9"])) ?? 0
        #expect((86_390...86_400).contains(offenseTTL))
        for _ in 0..<5 { _ = try counts.record("192.0.2.10") }
        #expect(try counts.server.cli(["LLEN", "portal:failures:192.0.2.10"]) == "2", "3 banned, 2 since")
    }

    @Test("an account is named by an HMAC of its name under the credential key; the name itself never reaches Redis")
    func accountDigest() throws {
        let counts = try Counts(BruteForcePolicy(maxFailures: 5))
        defer { counts.shutdown() }
        let typed = "correct horse battery staple"
        _ = try counts.record("192.0.2.20", typed)
        let digest = counts.store.digest(ofAccount: typed)
        // Not the plain SHA-256 a dictionary reverses, but an HMAC under the key of a domain-separated message.
        #expect(digest != String(Digest.hex(Digest.sha256(Array(typed.utf8))).prefix(32)))
        let message = Array("story-portal failure-count account\u{0}\(typed)".utf8)
        let code = HMAC.authenticationCode(for: message, key: Self.accountKey)
        #expect(digest.count == 32 && digest == String(Digest.hex(code).prefix(32)))
        let otherKey = RedisAuthFailureStore(client: counts.fixture.client, accountKey: Array(repeating: 7, count: 32))
        #expect(otherKey.digest(ofAccount: typed) != digest)
        #expect(try counts.server.cli(["LLEN", "portal:failures:account:\(digest)"]) == "1")
        let keys = try counts.server.cli(["KEYS", "*"])
        #expect(!keys.contains("horse") && !keys.contains("alice"), "\(keys)")
        let entry = try counts.server.cli(["LINDEX", "portal:failures:account:\(digest)", "0"])
        #expect(entry.hasSuffix(" 192.0.2.20") && !entry.contains("horse"), "\(entry)")
        try counts.forget(account: typed)
        #expect(try counts.server.cli(["EXISTS", "portal:failures:account:\(digest)"]) == "0")
    }

    @Test("an address already in the shared ban list counts for nothing and is reported with its ban's time left")
    func alreadyBanned() throws {
        let counts = try Counts(BruteForcePolicy(maxFailures: 2))
        defer { counts.shutdown() }
        let bans = RedisBanStore(client: counts.fixture.client)
        try counts.fixture.wait { loop, done in
            bans.ban("203.0.113.7", forSeconds: 60, reason: "test", on: loop, completion: done)
        }
        .get()
        for _ in 0..<3 {
            let answer = try counts.record("203.0.113.7", "alice")
            #expect((58_000...60_000).contains(answer.addressBanMilliseconds) && answer.verdict.isEmpty, "\(answer)")
        }
        #expect(try counts.server.cli(["EXISTS", "portal:failures:203.0.113.7"]) == "0")
        #expect(try counts.record("203.0.113.8", "alice").addressBanMilliseconds == 0)
    }

    @Test("an account already locked counts nothing more and is reported with its lock's time left; its address counts")
    func alreadyLocked() throws {
        let counts = try Counts(BruteForcePolicy(maxFailures: 2))
        defer { counts.shutdown() }
        let bans = RedisBanStore(client: counts.fixture.client)
        try counts.fixture.wait { loop, done in
            bans.ban("account:alice", forSeconds: 60, reason: "test", on: loop, completion: done)
        }
        .get()
        let account = "portal:failures:account:" + counts.store.digest(ofAccount: "alice")
        for index in 0..<3 {
            let answer = try counts.record("198.51.100.\(index)", "alice", lockKey: "account:alice")
            #expect((58_000...60_000).contains(answer.accountLockMilliseconds) && answer.verdict.isEmpty, "\(answer)")
        }
        #expect(try counts.server.cli(["EXISTS", account]) == "0", "not a failure counted against the account")
        let banned = try counts.record("198.51.100.0", "alice", lockKey: "account:alice")
        #expect(banned.verdict.addressBans == [Self.ban("198.51.100.0", .address, failures: 2)])
        #expect(banned.verdict.accountLock == nil && banned.accountLockMilliseconds > 0)
        let offenses = "portal:offenses:account:" + counts.store.digest(ofAccount: "alice")
        #expect(try counts.server.cli(["EXISTS", offenses]) == "0", "no second lock")

        // An account that cannot be locked (no lock key given) is counted whatever the ban list holds.
        let unlockable = try counts.record("198.51.100.9", "alice")
        #expect(unlockable.accountLockMilliseconds == 0)
        #expect(try counts.server.cli(["LLEN", account]) == "1")
    }

    enum Step {
        case fail(String, String?)
        case forget(String)
    }

    @Test("every step decides as the in-memory tracker does: own bans, account locks with shares, doubling")
    func sameAsMemory() throws {
        let policy = BruteForcePolicy(maxFailures: 3, baseBanSeconds: 100, maxBanSeconds: 250)
        let counts = try Counts(policy)
        defer { counts.shutdown() }
        let memory = InMemoryAuthFailureTracker(policy: policy)
        let steps: [Step] = [
            .fail("a", nil), .fail("a", "bob"), .fail("a", nil),
            // A second and a third ban of the same address: 200 s, then the 250 s cap.
            .fail("a", nil), .fail("a", nil), .fail("a", nil), .fail("a", nil), .fail("a", nil), .fail("a", nil),
            // Spread over an account: locked, and only the address with two of its failures banned.
            .fail("x", "alice"), .fail("x", "alice"), .fail("y", "alice"), .fail("z", "alice"),
            // A success forgets the account's failures.
            .fail("p", "carol"), .fail("q", "carol"), .forget("carol"), .fail("r", "carol"), .fail("s", "carol"),
            // An address banned on its own answers for its failures against the account: no lock follows.
            .fail("w", "dave"), .fail("w", "dave"), .fail("w", "dave"), .fail("v", "dave"), .fail("u", "dave"),
            // The account locked again, after the window started over: its second lock lasts twice as long.
            .fail("x", "alice"), .fail("x", "alice"), .fail("y", "alice"), .fail("y", "alice"),
        ]
        var bans = 0
        for (index, step) in steps.enumerated() {
            switch step {
            case .fail(let address, let account):
                let shared = try counts.record(address, account).verdict
                let local = memory.recordFailure(address: address, account: account, now: UInt64(index))
                #expect(shared == local, "step \(index): \(step)")
                bans += shared.addressBans.count + (shared.accountLock == nil ? 0 : 1)
            case .forget(let account):
                try counts.forget(account: account)
                memory.forgetFailures(account: account)
            }
        }
        #expect(bans == 9, "the steps above ban or lock nine times")
    }

    @Test("after SCRIPT FLUSH the store sends EVAL, which loads the script again")
    func noscript() throws {
        let counts = try Counts(BruteForcePolicy(maxFailures: 2))
        defer { counts.shutdown() }
        #expect(try counts.record("192.0.2.30").verdict.isEmpty)
        #expect(try counts.server.cli(["SCRIPT", "EXISTS", RedisAuthFailureStore.scriptSHA1]) == "1")
        _ = try counts.server.cli(["SCRIPT", "FLUSH"])
        #expect(try counts.record("192.0.2.30").verdict.addressBans.count == 1)
    }

    @Test(
        "while Redis cannot answer, a gateway's own count bans at its share in local and closed mode, alone in open",
        arguments: [
            (RateLimitFailMode.open, 10, 3, 10), (.local, 10, 3, 3), (.closed, 10, 4, 2), (.local, 2, 5, 1),
            (.local, 10, 1, 10),
        ])
    func fallbackLimit(mode: RateLimitFailMode, maxFailures: Int, instances: Int, limit: Int) throws {
        let group = try EventLoopGroup(threads: 1)
        defer { group.shutdown() }
        let client = try RedisClient(configuration: RedisConfiguration(host: "127.0.0.1", port: 1))
        let backend = SharedStoreBackend(
            circuit: BackendCircuit(clock: ManualClock()), writeLoop: group.loops[0], onError: { _, _ in })
        let shared = SharedAuthFailures(
            store: RedisAuthFailureStore(client: client, accountKey: Self.accountKey),
            policy: BruteForcePolicy(maxFailures: maxFailures),
            failMode: mode, instances: instances, backend: backend)
        #expect(shared.fallbackLimit == limit)
    }
}
