import Auth
import Foundation
import Limits
import Redis
import RedisTestSupport
import Store
import Testing

/// Brute-force failure counts shared by two real gateways through one real Redis (as `REDIS_URL` makes them),
/// so that guesses spread over gateways earn what as many guesses on one would; client addresses come from a
/// trusted proxy's `X-Forwarded-For`.
@Suite("Failure counts shared through Redis")
struct SharedFailureCountTests {
    typealias Pair = SharedBansTests.Pair

    /// The `ban.added` records of `harness` whose reason starts with `prefix`.
    static func bansAdded(_ harness: GatewayHarness, _ prefix: String) throws -> [[String: Any]] {
        try harness.auditRecords().filter {
            $0["type"] as? String == "ban.added" && ($0["reason"] as? String)?.hasPrefix(prefix) == true
        }
    }

    /// How the gateways name `account` in Redis: keyed with the harness's credential key, which both share.
    static func digest(ofAccount account: String) throws -> String {
        let unused = try RedisClient(configuration: RedisConfiguration(host: "127.0.0.1", port: 1))
        return RedisAuthFailureStore(client: unused, accountKey: GatewayHarness.credentialKey).digest(
            ofAccount: account)
    }

    /// Whether `condition` held within 3 s.
    static func soon(_ condition: () throws -> Bool) rethrows -> Bool {
        try SharedBansTests.secondsUntil(within: 3, condition) != nil
    }

    @Test("five wrong passwords on A and five on B from one address ban it on both, once; a repeat ban doubles")
    func spreadGuessesBan() throws {
        let pair = try Pair()
        defer { pair.shutdown() }
        let address = "198.51.100.40"
        // Even attempts go to A, odd ones to B.
        func guess(_ attempts: Range<Int>) throws {
            for attempt in attempts {
                let gateway = attempt % 2 == 0 ? pair.a : pair.b
                let response = try BruteForceTests.login(gateway, from: address, password: "guess \(attempt)")
                #expect(response.status == 400, "attempt \(attempt): \(response.text)")
            }
        }
        try guess(0..<10)
        // B's failure was the tenth: B bans as soon as Redis answers, A within the sync interval.
        #expect(try Self.soon { try SharedBansTests.visit(pair.b, from: address) == 429 })
        #expect(try Self.soon { try SharedBansTests.visit(pair.a, from: address) == 429 })
        let ttl = Int(try pair.server.cli(["TTL", "portal:ban:\(address)"])) ?? 0
        #expect((890...900).contains(ttl))
        #expect(try pair.server.cli(["EXISTS", "portal:failures:\(address)"]) == "0")
        #expect(try Self.soon { try Self.bansAdded(pair.b, "address_failures:10;seconds:900;offense:1").count == 1 })
        #expect(try Self.bansAdded(pair.a, "address").isEmpty, "one ban, made and audited where it was decided")

        // Lifted on B, the ban is gone everywhere. A's own count still holds its five, so A's next five reach ten
        // there, but Redis says nine: what A held at once is lifted when Redis answers, not imposed.
        #expect(try SharedBansTests.admin(pair.b, "DELETE", "/admin/bans/\(address)").status == 200)
        #expect(try Self.soon { try SharedBansTests.visit(pair.a, from: address) == 200 })
        try guess(0..<9)
        #expect(try Self.soon { try SharedBansTests.visit(pair.a, from: address) == 200 })
        #expect(try Self.bansAdded(pair.b, "address_failures:10;seconds:1800").isEmpty)
        try guess(9..<10)
        #expect(try Self.soon { try Self.bansAdded(pair.b, "address_failures:10;seconds:1800;offense:2").count == 1 })
        #expect(try Self.soon { try SharedBansTests.visit(pair.a, from: address) == 429 })
        #expect(try Self.bansAdded(pair.a, "address").isEmpty)
        let again = Int(try pair.server.cli(["TTL", "portal:ban:\(address)"])) ?? 0
        #expect((1790...1800).contains(again))
    }

    @Test("ten addresses spread over A and B lock the account on both; only the one with two guesses is banned")
    func spreadAccountLock() throws {
        let pair = try Pair()
        defer { pair.shutdown() }
        for attempt in 0..<10 {
            let gateway = attempt % 2 == 0 ? pair.a : pair.b
            let address = "198.51.100.\(attempt == 9 ? 60 : 60 + attempt)"
            #expect(try BruteForceTests.login(gateway, from: address, password: "guess").status == 400)
        }
        for gateway in [pair.a, pair.b] {
            #expect(
                try Self.soon {
                    let login = try BruteForceTests.login(
                        gateway, from: "192.0.2.77", password: TokenEndpointTests.password)
                    return login.status == 429 && login.errorCode == "E9450"
                })
            #expect(try Self.soon { try SharedBansTests.visit(gateway, from: "198.51.100.60") == 429 })
            #expect(try SharedBansTests.visit(gateway, from: "198.51.100.61") == 200)
        }
        #expect(try Self.soon { try Self.bansAdded(pair.b, "account_lock:10;seconds:900;offense:1").count == 1 })
        #expect(try Self.soon { try Self.bansAdded(pair.b, "account_failures:2;").count == 1 })
        #expect(try Self.bansAdded(pair.a, "account").isEmpty)
        // Redis knows the account by a digest only; the lock itself is the shared ban list's `account:alice`.
        let keys =
            try pair.server.cli(["KEYS", "portal:failures:*"]) + (try pair.server.cli(["KEYS", "portal:offenses:*"]))
        #expect(!keys.contains("alice"), "\(keys)")
        #expect(try pair.server.cli(["EXISTS", "portal:ban:account:alice"]) == "1")
    }

    /// Wrong passwords for alice through `gateway`, from `address(attempt)`, until one is refused (at most 3 s):
    /// how many were checked (answered 400) before that, and the refusal.
    static func checkedUntilRefused(
        _ gateway: GatewayHarness, from address: (Int) -> String
    ) throws -> (checked: Int, refusal: TestHTTPClient.Response?) {
        let deadline = Date().addingTimeInterval(3)
        var checked = 0
        while Date() < deadline {
            let response = try BruteForceTests.login(gateway, from: address(checked), password: "guess \(checked)")
            if response.status == 429 { return (checked, response) }
            #expect(response.status == 400, "\(response.text)")
            checked += 1
            // Time for Redis to answer the failure, as it would between one guesser's requests.
            usleep(50_000)
        }
        return (checked, nil)
    }

    @Test("an address banned through A fails once through B, whose mirror has not synced: B refuses it at once")
    func banSeenByTheNextFailure() throws {
        // B's mirror syncs once a minute: only the failure count's answer can tell B of the ban.
        let pair = try Pair(bSyncSeconds: 60)
        defer { pair.shutdown() }
        let address = "198.51.100.50"
        for attempt in 0..<10 {
            #expect(try BruteForceTests.login(pair.a, from: address, password: "guess \(attempt)").status == 400)
        }
        #expect(try Self.soon { try SharedBansTests.visit(pair.a, from: address) == 429 })
        #expect(try SharedBansTests.visit(pair.b, from: address) == 200, "B's mirror has not seen the ban")

        let (checked, refusal) = try Self.checkedUntilRefused(pair.b) { _ in address }
        #expect(checked == 1 && refusal?.errorCode == "E9402", "\(checked) guesses checked on B")
        let retryAfter = refusal?.header("Retry-After").flatMap(Int.init) ?? 0
        #expect((890...900).contains(retryAfter), "the ban's time left in Redis")
        #expect(try SharedBansTests.visit(pair.b, from: address) == 429)
        #expect(try SharedBansTests.visit(pair.b, from: "198.51.100.51") == 200)
        #expect(try Self.bansAdded(pair.a, "address_failures:10;seconds:900;offense:1").count == 1)
        #expect(try Self.bansAdded(pair.b, "").isEmpty, "B mirrors the ban: no second record")
        #expect(try pair.server.cli(["GET", "portal:offenses:\(address)"]) == "1")
    }

    @Test("an account locked through A fails once through B, whose mirror has not synced: B locks it too, once")
    func lockSeenByTheNextFailure() throws {
        let pair = try Pair(bSyncSeconds: 60)
        defer { pair.shutdown() }
        for index in 0..<10 {
            #expect(
                try BruteForceTests.login(pair.a, from: "198.51.100.\(70 + index)", password: "guess").status == 400)
        }
        #expect(
            try Self.soon {
                let login = try BruteForceTests.login(pair.a, from: "192.0.2.70", password: TokenEndpointTests.password)
                return login.status == 429 && login.errorCode == "E9450"
            })
        #expect(try pair.server.cli(["EXISTS", "portal:ban:account:alice"]) == "1")

        // Fresh addresses each time: only the account's lock can stop them.
        let (checked, refusal) = try Self.checkedUntilRefused(pair.b) { "203.0.113.\(100 + $0)" }
        #expect(checked == 1 && refusal?.errorCode == "E9450", "\(checked) guesses checked on B")
        let retryAfter = refusal?.header("Retry-After").flatMap(Int.init) ?? 0
        #expect((890...900).contains(retryAfter), "the lock's time left in Redis")
        let right = try BruteForceTests.login(pair.b, from: "192.0.2.71", password: TokenEndpointTests.password)
        #expect(right.status == 429 && right.errorCode == "E9450")
        #expect(try Self.bansAdded(pair.a, "account_lock:10;seconds:900;offense:1").count == 1)
        #expect(try Self.bansAdded(pair.b, "").isEmpty, "B mirrors the lock: no second record")
        let offenses = "portal:offenses:account:" + (try Self.digest(ofAccount: "alice"))
        #expect(try pair.server.cli(["GET", offenses]) == "1")
        let ttl = Int(try pair.server.cli(["TTL", "portal:ban:account:alice"])) ?? 0
        #expect((880...900).contains(ttl), "not locked again for twice as long")
    }

    @Test("lifting a ban on the admin API forgets the address's shared count: nine more guesses do not ban it")
    func liftForgetsSharedCount() throws {
        let pair = try Pair()
        defer { pair.shutdown() }
        let address = "198.51.100.44"
        // A different unknown name each time, so that no account's window collects these failures.
        func guess(_ attempts: Range<Int>) throws {
            for attempt in attempts {
                let gateway = attempt % 2 == 0 ? pair.a : pair.b
                let form = [("grant_type", "password"), ("username", "nobody\(attempt)"), ("password", "guess")]
                let response = try TokenEndpointTests.post(gateway, form, headers: [("X-Forwarded-For", address)])
                #expect(response.status == 400, "attempt \(attempt): \(response.text)")
            }
        }
        // Seven failures in Redis, then an operator's ban and lift: the seven must not count any more.
        try guess(0..<7)
        #expect(try Self.soon { try pair.server.cli(["LLEN", "portal:failures:\(address)"]) == "7" })
        let banned = try SharedBansTests.admin(
            pair.a, "POST", "/admin/bans", #"{"address":"\#(address)","seconds":600}"#)
        #expect(banned.status == 201)
        #expect(try SharedBansTests.admin(pair.b, "DELETE", "/admin/bans/\(address)").status == 200)
        #expect(try Self.soon { try pair.server.cli(["EXISTS", "portal:failures:\(address)"]) == "0" })
        #expect(try Self.soon { try SharedBansTests.visit(pair.a, from: address) == 200 })

        // Nine more, spread again: 7 + 3 would have banned it; nine alone do not.
        try guess(0..<9)
        #expect(try Self.soon { try pair.server.cli(["LLEN", "portal:failures:\(address)"]) == "9" })
        for gateway in [pair.a, pair.b] { #expect(try SharedBansTests.visit(gateway, from: address) == 200) }
        try guess(9..<10)
        #expect(try Self.soon { try SharedBansTests.visit(pair.a, from: address) == 429 })
        #expect(try Self.soon { try Self.bansAdded(pair.b, "address_failures:10;seconds:900;offense:1").count == 1 })
    }

    @Test("a successful login through A forgets the failures the account collected through A and B")
    func successForgetsSharedAccountCount() throws {
        let pair = try Pair()
        defer { pair.shutdown() }
        let key = try "portal:failures:account:" + Self.digest(ofAccount: "alice")
        // One failure from each of nine addresses, over both gateways: one short of a lock.
        func guess(from first: Int) throws {
            for index in 0..<9 {
                let gateway = index % 2 == 0 ? pair.a : pair.b
                let address = "198.51.100.\(first + index)"
                #expect(try BruteForceTests.login(gateway, from: address, password: "guess").status == 400)
            }
        }
        try guess(from: 100)
        #expect(try Self.soon { try pair.server.cli(["LLEN", key]) == "9" })
        let login = try BruteForceTests.login(pair.a, from: "192.0.2.5", password: TokenEndpointTests.password)
        #expect(login.status == 200)
        #expect(try Self.soon { try pair.server.cli(["EXISTS", key]) == "0" })

        // Nine more: 9 + 1 would have locked the account; nine alone do not.
        try guess(from: 120)
        #expect(try Self.soon { try pair.server.cli(["LLEN", key]) == "9" })
        for gateway in [pair.a, pair.b] {
            let next = try BruteForceTests.login(gateway, from: "192.0.2.6", password: TokenEndpointTests.password)
            #expect(next.status == 200, "\(next.text)")
        }
        #expect(try Self.bansAdded(pair.a, "account").isEmpty && (try Self.bansAdded(pair.b, "account").isEmpty))
    }

    @Test("Redis stopped: each gateway's own count still bans; the other cannot learn of it meanwhile")
    func redisDown() throws {
        let pair = try Pair()
        defer { pair.shutdown() }
        pair.server.stop()
        for attempt in 0..<10 {
            #expect(try BruteForceTests.login(pair.a, from: "203.0.113.80", password: "guess \(attempt)").status == 400)
        }
        let login = try BruteForceTests.login(pair.a, from: "203.0.113.80", password: TokenEndpointTests.password)
        #expect(login.status == 429 && login.errorCode == "E9402")
        #expect(try SharedBansTests.visit(pair.b, from: "203.0.113.80") == 200, "B cannot learn of it meanwhile")
        #expect(try Self.soon { try Self.bansAdded(pair.a, "address_failures:10;seconds:900;offense:1").count == 1 })
    }

    @Test(
        "Redis stopped, two gateways: local mode bans at this gateway's share (5 of 10), open mode at 10",
        arguments: [(RateLimitFailMode.local, 5), (.open, 10)])
    func failModeLimit(mode: RateLimitFailMode, limit: Int) throws {
        let server = try RedisServer()
        var options = try Pair.options(server)
        options.bruteForceFailMode = mode
        options.bruteForceInstances = 2
        // One failure opens the circuit for longer than the test: no probe decides by the full limit.
        options.sharedCircuit = (failures: 1, cooldownMilliseconds: 60_000)
        let harness = try GatewayHarness(options)
        defer {
            harness.shutdown()
            server.stop()
        }
        try #require(harness.credentials).store.createUser(
            UserRecord(
                username: "alice", passwordHash: Auth.PasswordHasher().hash(TokenEndpointTests.password),
                roles: ["developer"], createdAt: harness.clock.unixSeconds()))
        server.stop()
        #expect(Self.soon { harness.sharedCircuit?.state == .open })

        var statuses: [Int] = []
        for attempt in 0..<11 {
            statuses.append(
                try BruteForceTests.login(harness, from: "203.0.113.90", password: "guess \(attempt)").status)
        }
        #expect(
            statuses == Array(repeating: 400, count: limit) + Array(repeating: 429, count: 11 - limit), "\(statuses)")
    }
}
