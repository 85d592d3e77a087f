import Auth
import Config
import Foundation
import Limits
import Redis
import RedisTestSupport
import Store
import Testing

/// Two real gateways sharing bans and revoked tokens through one real Redis, as `REDIS_URL` makes them; client
/// addresses come from a trusted proxy's `X-Forwarded-For`.
@Suite("Bans and revocations shared through Redis")
struct SharedBansTests {
    /// How often the gateways' mirrors sync here; the documented default is 1 s.
    static let syncSeconds = 0.2

    final class Pair {
        let server: RedisServer
        let a: GatewayHarness
        let b: GatewayHarness

        /// - Parameter bSyncSeconds: how often B's mirror syncs, when not `SharedBansTests.syncSeconds`.
        init(server: RedisServer? = nil, bSyncSeconds: Double? = nil) throws {
            let server = try server ?? RedisServer()
            self.server = server
            a = try GatewayHarness(Self.options(server))
            var bOptions = try Self.options(server)
            if let bSyncSeconds { bOptions.sharedSyncNanoseconds = UInt64(bSyncSeconds * 1e9) }
            b = try GatewayHarness(bOptions)
            for harness in [a, b] {
                try #require(harness.credentials).store.createUser(
                    UserRecord(
                        username: "alice", passwordHash: Auth.PasswordHasher().hash(TokenEndpointTests.password),
                        roles: ["developer", "admin"], createdAt: harness.clock.unixSeconds()))
            }
        }

        static func options(_ server: RedisServer) throws -> GatewayHarness.Options {
            var options = GatewayHarness.Options()
            options.withCredentials = true
            options.withTokens = true
            options.trustedProxies = try CIDRList(parsing: "127.0.0.1/32", variable: "TRUSTED_PROXIES")
            options.bruteForce = BruteForcePolicy(maxFailures: 10, windowSeconds: 300, baseBanSeconds: 900)
            var configuration = RedisConfiguration(
                host: "127.0.0.1", port: server.port, password: RedisPassword(server.password))
            configuration.commandTimeoutNanoseconds = 300_000_000
            options.redis = try RedisClient(configuration: configuration)
            options.sharedSyncNanoseconds = UInt64(SharedBansTests.syncSeconds * 1e9)
            options.sharedCircuit = (failures: 2, cooldownMilliseconds: 300)
            return options
        }

        func shutdown() {
            a.shutdown()
            b.shutdown()
            server.stop()
        }
    }

    /// A public request from `address`: 200 passes, 429 E9402 is a ban.
    static func visit(_ harness: GatewayHarness, from address: String) throws -> Int {
        let response = try harness.send("GET", "/public/x", headers: [("X-Forwarded-For", address)])
        if response.status == 429 { #expect(response.errorCode == "E9402") }
        return response.status
    }

    /// An admin call on `harness`'s admin listener, as a root token.
    static func admin(
        _ harness: GatewayHarness, _ method: String, _ path: String, _ body: String? = nil
    ) throws -> TestHTTPClient.Response {
        let root = try harness.token(scopes: [], subject: "root", roles: ["admin"])
        return try TestHTTPClient(port: harness.admin.port).request(
            method, path, headers: [("Authorization", "Bearer \(root)"), ("Content-Type", "application/json")],
            body: body)
    }

    /// Seconds until `condition` held, polling every 20 ms; nil when it did not within `seconds`.
    static func secondsUntil(within seconds: Double, _ condition: () throws -> Bool) rethrows -> Double? {
        let start = Date()
        while Date().timeIntervalSince(start) < seconds {
            if try condition() { return Date().timeIntervalSince(start) }
            usleep(20_000)
        }
        return nil
    }

    @Test(
        "a ban made through A's admin API refuses the client on B within the sync interval; B's unban lifts it on both")
    func adminBanAndUnban() throws {
        let pair = try Pair()
        defer { pair.shutdown() }
        // B has let the client in before A bans it.
        #expect(try Self.visit(pair.b, from: "203.0.113.50") == 200)

        let banned = try Self.admin(
            pair.a, "POST", "/admin/bans", #"{"address":"203.0.113.50","seconds":600,"reason":"abuse"}"#)
        #expect(banned.status == 201, "\(banned.text)")
        #expect(try Self.visit(pair.a, from: "203.0.113.50") == 429)
        let seenOnB = try Self.secondsUntil(within: 3) { try Self.visit(pair.b, from: "203.0.113.50") == 429 }
        #expect(try #require(seenOnB) <= Self.syncSeconds + 1, "B saw the ban after \(seenOnB ?? -1) s")
        #expect(try Self.visit(pair.b, from: "203.0.113.51") == 200)

        // B lists A's ban with its reason, and lifts it; A lets the client in within the sync interval.
        let listed = try #require(try Self.admin(pair.b, "GET", "/admin/bans").json?["bans"] as? [[String: Any]])
        #expect(listed.count == 1 && listed.first?["address"] as? String == "203.0.113.50")
        #expect(listed.first?["reason"] as? String == "admin:abuse")
        #expect((590...600).contains(listed.first?["remaining_seconds"] as? Int ?? 0))
        #expect(try Self.admin(pair.b, "DELETE", "/admin/bans/203.0.113.50").status == 200)
        #expect(try Self.visit(pair.b, from: "203.0.113.50") == 200)
        let liftedOnA = try Self.secondsUntil(within: 3) { try Self.visit(pair.a, from: "203.0.113.50") == 200 }
        #expect(try #require(liftedOnA) <= Self.syncSeconds + 1)
        #expect(try Self.admin(pair.a, "GET", "/admin/bans").json?["bans"] as? [Any] != nil)
        #expect((try Self.admin(pair.a, "GET", "/admin/bans").json?["bans"] as? [Any])?.isEmpty == true)
        #expect(try Self.admin(pair.a, "DELETE", "/admin/bans/203.0.113.50").status == 404)

        // Both changes are audited where they were made.
        let added = try pair.a.auditRecords().filter { $0["type"] as? String == "ban.added" }
        #expect((added.first?["reason"] as? String)?.hasPrefix("address:203.0.113.50;seconds:600") == true)
        #expect(try pair.b.auditRecords().contains { $0["type"] as? String == "ban.lifted" })
    }

    @Test("bad bans on the admin API get 400 E9411 naming the fields")
    func badBans() throws {
        let pair = try Pair()
        defer { pair.shutdown() }
        for body in [
            #"{"address":"","seconds":60}"#, #"{"address":"1.2.3.4","seconds":0}"#, #"{"address":"1.2.3.4"}"#,
            #"{"address":"1.2.3.4","seconds":99999999999}"#, #"{"address":"a\nb","seconds":5}"#,
            #"{"seconds":5}"#,
            // Bans that would match nobody: other prefixes, stray spaces, names, patterns.
            #"{"address":"127.0.0.1/8","seconds":5}"#, #"{"address":"127.0.0.8 ","seconds":5}"#,
            #"{"address":"portal:*","seconds":5}"#, #"{"address":"10.0.0.1/64","seconds":5}"#,
            #"{"address":"host.example","seconds":5}"#,
            // A reason that could forge fields of the audit record's reason.
            #"{"address":"1.2.3.4","seconds":5,"reason":"x;admin:root"}"#,
        ] {
            let response = try Self.admin(pair.a, "POST", "/admin/bans", body)
            #expect(response.status == 400 && response.errorCode == "E9411", "\(body): \(response.text)")
        }
        #expect(try pair.server.cli(["ZCARD", "portal:bans"]) == "0")
        // Any spelling bans the key clients are matched by: IPv6 by its /64, IPv4-mapped as IPv4.
        for (given, key) in [("2001:DB8:0::1", "2001:db8::/64"), ("::ffff:203.0.113.9", "203.0.113.9")] {
            let response = try Self.admin(
                pair.a, "POST", "/admin/bans", #"{"address":"\#(given)","seconds":60}"#)
            #expect(response.status == 201 && response.json?["banned"] as? String == key, "\(response.text)")
        }
        #expect(try Self.admin(pair.a, "DELETE", "/admin/bans/2001%3Adb8%3A%3A42").status == 200)
    }

    @Test("ten wrong passwords on A ban the address on B too")
    func bruteForceBanIsShared() throws {
        let pair = try Pair()
        defer { pair.shutdown() }
        for attempt in 0..<10 {
            _ = try BruteForceTests.login(pair.a, from: "198.51.100.23", password: "guess \(attempt)")
        }
        #expect(
            try BruteForceTests.login(pair.a, from: "198.51.100.23", password: TokenEndpointTests.password)
                .status == 429)
        let seen = try Self.secondsUntil(within: 3) { try Self.visit(pair.b, from: "198.51.100.23") == 429 }
        #expect(seen != nil)
        let login = try BruteForceTests.login(pair.b, from: "198.51.100.23", password: TokenEndpointTests.password)
        #expect(login.status == 429)
        let ttl = Int(try pair.server.cli(["TTL", "portal:ban:198.51.100.23"])) ?? 0
        #expect((890...900).contains(ttl))
    }

    @Test("an account locked on A is locked on B too; its addresses are not banned; an unlock on B frees it on A")
    func accountLockIsShared() throws {
        let pair = try Pair()
        defer { pair.shutdown() }
        for index in 0..<10 {
            _ = try BruteForceTests.login(pair.a, from: "198.51.100.\(100 + index)", password: "guess")
        }
        let seen = try Self.secondsUntil(within: 3) {
            try BruteForceTests.login(pair.b, from: "192.0.2.77", password: TokenEndpointTests.password).status == 429
        }
        #expect(seen != nil)
        #expect(try Self.visit(pair.b, from: "198.51.100.100") == 200)
        let ttl = Int(try pair.server.cli(["TTL", "portal:ban:account:alice"])) ?? 0
        #expect((890...900).contains(ttl))
        #expect(try Self.admin(pair.b, "DELETE", "/admin/bans/account%3Aalice").status == 200)
        let freed = try Self.secondsUntil(within: 3) {
            try BruteForceTests.login(pair.a, from: "192.0.2.77", password: TokenEndpointTests.password).status == 200
        }
        #expect(freed != nil)
    }

    @Test("a refresh token replayed on A, and the admin revocation on A, refuse the access tokens on B")
    func revocationsAreShared() throws {
        let pair = try Pair()
        defer { pair.shutdown() }
        let login = try BruteForceTests.login(pair.a, from: "192.0.2.10", password: TokenEndpointTests.password)
        let access = try #require(login.json?["access_token"] as? String)
        let refresh = try #require(login.json?["refresh_token"] as? String)
        // B accepts the token A issued.
        #expect(try TokenEndpointTests.call(pair.b, access) == 200)

        // A rotates, then sees the old refresh token again: the family and its access tokens are revoked.
        let rotated = try TokenEndpointTests.post(
            pair.a, [("grant_type", "refresh_token"), ("refresh_token", refresh)])
        #expect(rotated.status == 200)
        let access2 = try #require(rotated.json?["access_token"] as? String)
        #expect(try TokenEndpointTests.call(pair.b, access2) == 200)
        let replay = try TokenEndpointTests.post(pair.a, [("grant_type", "refresh_token"), ("refresh_token", refresh)])
        #expect(replay.status == 400)
        for token in [access, access2] {
            let refused = try Self.secondsUntil(within: 3) { try TokenEndpointTests.call(pair.b, token) == 401 }
            #expect(try #require(refused) <= Self.syncSeconds + 1)
        }

        // The admin path: a token A issued is revoked by its jti on A, and B refuses it.
        let other = try BruteForceTests.login(pair.a, from: "192.0.2.10", password: TokenEndpointTests.password)
        let token = try #require(other.json?["access_token"] as? String)
        #expect(try TokenEndpointTests.call(pair.b, token) == 200)
        let claims = try Self.claims(token)
        let jti = try #require(claims["jti"] as? String)
        let exp = try #require(claims["exp"] as? Int)
        let revoked = try Self.admin(pair.a, "POST", "/admin/revocations", #"{"jti":"\#(jti)","expires_at":\#(exp)}"#)
        #expect(revoked.status == 201)
        #expect(try Self.secondsUntil(within: 3) { try TokenEndpointTests.call(pair.b, token) == 401 } != nil)
        #expect(try pair.server.cli(["EXISTS", "portal:revoked:\(jti)"]) == "1")
    }

    @Test(
        "Redis stopped: known bans hold, others pass, lifts fail with 503, errors are counted; restarted: sharing resumes"
    )
    func redisOutage() throws {
        let server = try RedisServer(extraConfiguration: ["appendonly yes", "appendfsync always"])
        let pair = try Pair(server: server)
        defer { pair.shutdown() }
        #expect(
            try Self.admin(pair.a, "POST", "/admin/bans", #"{"address":"203.0.113.70","seconds":600}"#).status
                == 201)
        #expect(try Self.secondsUntil(within: 3) { try Self.visit(pair.b, from: "203.0.113.70") == 429 } != nil)

        server.stop()
        usleep(UInt32(Self.syncSeconds * 2 * 1e6))
        // Long past the cache time, the ban B has seen still holds; an address never banned passes.
        for _ in 0..<5 {
            #expect(try Self.visit(pair.b, from: "203.0.113.70") == 429)
            #expect(try Self.visit(pair.b, from: "203.0.113.71") == 200)
        }
        #expect(
            try pair.b.metric(#"shared_state_errors_total{store="bans",kind="connectFailed"}"#) >= 1
                || pair.b.exposition().contains(#"shared_state_errors_total{store="bans""#))
        let lift = try Self.admin(pair.b, "DELETE", "/admin/bans/203.0.113.70")
        #expect(lift.status == 503 && lift.errorCode == "E9410")
        #expect(try Self.visit(pair.b, from: "203.0.113.70") == 429)
        // A ban made meanwhile holds where it was made.
        #expect(
            try Self.admin(pair.a, "POST", "/admin/bans", #"{"address":"203.0.113.72","seconds":600}"#).status
                == 201)
        #expect(try Self.visit(pair.a, from: "203.0.113.72") == 429)
        #expect(try Self.visit(pair.b, from: "203.0.113.72") == 200)

        try server.start()
        // After the circuit's cool-down a request probes Redis, and sharing resumes without an operator.
        #expect(
            try Self.admin(pair.a, "POST", "/admin/bans", #"{"address":"203.0.113.73","seconds":600}"#).status
                == 201)
        let resumed = try Self.secondsUntil(within: 5) { try Self.visit(pair.b, from: "203.0.113.73") == 429 }
        #expect(resumed != nil)
        #expect(try Self.visit(pair.b, from: "203.0.113.70") == 429, "the persisted ban is still there")
        // The ban A made during the outage reached Redis after it came back, so B enforces it too.
        #expect(try Self.secondsUntil(within: 3) { try Self.visit(pair.b, from: "203.0.113.72") == 429 } != nil)
        #expect(try Self.visit(pair.a, from: "203.0.113.72") == 429)
        #expect(try Self.admin(pair.b, "DELETE", "/admin/bans/203.0.113.70").status == 200)
        #expect(try Self.secondsUntil(within: 3) { try Self.visit(pair.a, from: "203.0.113.70") == 200 } != nil)
    }

    /// The claims of a JWT, unverified (the test's own token).
    static func claims(_ token: String) throws -> [String: Any] {
        let parts = token.split(separator: ".")
        var payload = String(parts[1]).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while payload.count % 4 != 0 { payload += "=" }
        let data = try #require(Data(base64Encoded: payload))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }
}
