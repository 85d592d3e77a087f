import Auth
import Config
import Foundation
import Limits
import Store
import Testing

/// Brute-force protection through the running gateway; client addresses come from a trusted proxy's
/// `X-Forwarded-For`, so one test can speak from many addresses.
@Suite("Brute-force protection")
struct BruteForceTests {
    static func harness(maxFailures: Int = 10) throws -> GatewayHarness {
        var options = GatewayHarness.Options()
        options.withCredentials = true
        options.withTokens = true
        options.trustedProxies = try CIDRList(parsing: "127.0.0.1/32", variable: "TRUSTED_PROXIES")
        options.bruteForce = BruteForcePolicy(maxFailures: maxFailures, windowSeconds: 300, baseBanSeconds: 900)
        let harness = try GatewayHarness(options)
        try #require(harness.credentials).store.createUser(
            UserRecord(
                username: "alice", passwordHash: Auth.PasswordHasher().hash(TokenEndpointTests.password),
                roles: ["developer"], createdAt: harness.clock.unixSeconds()))
        return harness
    }

    static func login(
        _ harness: GatewayHarness, from address: String, password: String
    ) throws -> TestHTTPClient.Response {
        try TokenEndpointTests.post(
            harness, [("grant_type", "password"), ("username", "alice"), ("password", password)],
            headers: [("X-Forwarded-For", address)])
    }

    @Test("30 wrong passwords from one address: a ban, an audit record, bans_active 1; another address logs in")
    func thirtyWrongPasswords() throws {
        let harness = try Self.harness()
        defer { harness.shutdown() }
        var statuses: [Int] = []
        for attempt in 0..<30 {
            let response = try Self.login(harness, from: "203.0.113.9", password: "guess number \(attempt)")
            statuses.append(response.status)
            if response.status == 429 {
                #expect(response.header("Retry-After").flatMap(Int.init).map { (1...900).contains($0) } == true)
                #expect(response.errorCode == "E9402")
            }
        }
        #expect(statuses == Array(repeating: 400, count: 10) + Array(repeating: 429, count: 20), "\(statuses)")
        #expect(try harness.metric("bans_active") == 1)
        #expect(try harness.metric("banned_requests_total") == 20)
        let check = try AdminServiceTests.promtoolCheck(try harness.exposition())
        #expect(check.status == 0, "\(check.output)")
        // The banned requests never reached a password check.
        #expect(try harness.metric("auth_failures_total") == 10)
        let bans = try harness.auditRecords().filter { $0["type"] as? String == "ban.added" }
        #expect(bans.count == 1)
        #expect(bans.first?["client_address"] as? String == "203.0.113.9")
        #expect((bans.first?["reason"] as? String)?.hasPrefix("address_failures:10;seconds:900") == true)
        // Even the right password does not help the banned address; another address logs in at once.
        #expect(try Self.login(harness, from: "203.0.113.9", password: TokenEndpointTests.password).status == 429)
        let other = try Self.login(harness, from: "198.51.100.4", password: TokenEndpointTests.password)
        #expect(other.status == 200, "\(other.text)")
        // The ban ends on the clock.
        harness.clock.advance(seconds: 901)
        #expect(try Self.login(harness, from: "203.0.113.9", password: TokenEndpointTests.password).status == 200)
        #expect(try harness.metric("bans_active") == 0)
    }

    @Test("forged tokens and unknown API keys count too; expired genuine tokens do not")
    func otherCredentials() throws {
        let harness = try Self.harness()
        defer { harness.shutdown() }
        let expired = try harness.token(scopes: ["echo:read"], expiresInSeconds: -120)
        for _ in 0..<15 {
            let response = try harness.send(
                "GET", "/echo/a", headers: [("Authorization", "Bearer \(expired)"), ("X-Forwarded-For", "192.0.2.1")])
            #expect(response.status == 401)
        }
        #expect(try harness.metric("bans_active") == 0)
        let forged = try harness.token(scopes: ["echo:read"], secret: GatewayHarness.otherSecret)
        for index in 0..<10 {
            let headers =
                index % 2 == 0
                ? [("Authorization", "Bearer \(forged)")] : [("X-API-Key", Auth.APIKeyFormat.generate().key)]
            _ = try harness.send("GET", "/echo/a", headers: headers + [("X-Forwarded-For", "192.0.2.2")])
        }
        #expect(try harness.metric("bans_active") == 1)
        let valid = try harness.token(scopes: ["echo:read"])
        let refused = try harness.send(
            "GET", "/echo/a", headers: [("Authorization", "Bearer \(valid)"), ("X-Forwarded-For", "192.0.2.2")])
        #expect(refused.status == 429)
    }

    @Test("bans are listed and lifted on the admin API by an admin; a repeat ban lasts twice as long")
    func adminListsAndLifts() throws {
        let harness = try Self.harness()
        defer { harness.shutdown() }
        for attempt in 0..<10 { _ = try Self.login(harness, from: "2001:db8::7", password: "wrong \(attempt)") }
        let root = try harness.token(scopes: [], subject: "root", roles: ["admin"])
        func admin(_ method: String, _ path: String) throws -> TestHTTPClient.Response {
            try TestHTTPClient(port: harness.admin.port).request(
                method, path, headers: [("Authorization", "Bearer \(root)")])
        }
        let listed = try admin("GET", "/admin/bans")
        #expect(listed.status == 200)
        let entries = try #require(listed.json?["bans"] as? [[String: Any]])
        #expect(entries.count == 1 && entries.first?["address"] as? String == "2001:db8::/64")
        #expect(try TestHTTPClient(port: harness.admin.port).request("GET", "/admin/bans").status == 401)
        let lifted = try admin("DELETE", "/admin/bans/2001%3Adb8%3A%3A%2F64")
        #expect(lifted.status == 200, "\(lifted.text)")
        #expect(try harness.metric("bans_active") == 0)
        #expect(try admin("DELETE", "/admin/bans/2001%3Adb8%3A%3A%2F64").status == 404)
        // Another address in the same /64 is the same client.
        for attempt in 0..<10 { _ = try Self.login(harness, from: "2001:db8::8", password: "again \(attempt)") }
        let again = try #require(try admin("GET", "/admin/bans").json?["bans"] as? [[String: Any]])
        #expect((again.first?["reason"] as? String)?.contains("seconds:1800;offense:2") == true)
        let types = try harness.auditRecords().compactMap { $0["type"] as? String }
        #expect(types.filter { $0 == "ban.added" }.count == 2 && types.contains("ban.lifted"))
    }

    /// Whether `address` is refused by a ban on a route other than the token endpoint.
    static func isBanned(_ harness: GatewayHarness, _ address: String) throws -> Bool {
        try harness.send("GET", "/echo/a", headers: [("X-Forwarded-For", address)]).status == 429
    }

    @Test("others' failures against an account never ban the next address: the owner's typo after them is only a typo")
    func accountFailuresDoNotBanTheNextAddress() throws {
        let harness = try Self.harness(maxFailures: 5)
        defer { harness.shutdown() }
        for index in 2...5 {
            #expect(try Self.login(harness, from: "127.0.0.\(index)", password: "wrong").status == 400)
        }
        #expect(try Self.login(harness, from: "127.0.0.50", password: TokenEndpointTests.password).status == 200)
        let typo = try Self.login(harness, from: "127.0.0.51", password: "typo")
        #expect(typo.status == 400, "\(typo.text)")
        #expect(try Self.isBanned(harness, "127.0.0.51") == false)
        #expect(try Self.login(harness, from: "127.0.0.51", password: TokenEndpointTests.password).status == 200)
        #expect(try harness.metric("bans_active") == 0)

        // The same with an API key id, which is not secret.
        let unknown = "spk_0000000000000000_" + String(repeating: "A", count: 43)
        for index in 2...6 {
            let headers = [("X-API-Key", unknown), ("X-Forwarded-For", "127.0.0.\(10 + index)")]
            #expect(try harness.send("GET", "/echo/a", headers: headers).status == 401)
        }
        let victim = [("X-API-Key", unknown), ("X-Forwarded-For", "127.0.0.52")]
        #expect(try harness.send("GET", "/echo/a", headers: victim).status == 401)
        #expect(try Self.isBanned(harness, "127.0.0.52") == false)
        #expect(try harness.metric("bans_active") == 0)
    }

    @Test("N failures against an account from N addresses lock the account, not the addresses; the lock ends")
    func spreadGuessingLocksTheAccount() throws {
        let harness = try Self.harness(maxFailures: 5)
        defer { harness.shutdown() }
        try #require(harness.credentials).store.createUser(
            UserRecord(
                username: "bob", passwordHash: Auth.PasswordHasher().hash(TokenEndpointTests.password),
                roles: ["developer"], createdAt: harness.clock.unixSeconds()))
        for index in 60...64 {
            #expect(try Self.login(harness, from: "127.0.0.\(index)", password: "wrong").status == 400)
        }
        // Locked: even the right password, from any address, answers 429 with Retry-After.
        let locked = try Self.login(harness, from: "127.0.0.51", password: TokenEndpointTests.password)
        #expect(locked.status == 429 && locked.errorCode == "E9450", "\(locked.text)")
        #expect(locked.header("Retry-After").flatMap(Int.init).map { (1...900).contains($0) } == true)
        // Nobody's address is banned; other accounts and routes are untouched.
        for index in [51, 60, 64] { #expect(try Self.isBanned(harness, "127.0.0.\(index)") == false) }
        let bob = try TokenEndpointTests.post(
            harness, [("grant_type", "password"), ("username", "bob"), ("password", TokenEndpointTests.password)],
            headers: [("X-Forwarded-For", "127.0.0.51")])
        #expect(bob.status == 200, "\(bob.text)")
        #expect(try harness.metric("bans_active") == 1)
        let locks = try harness.auditRecords().filter { $0["type"] as? String == "ban.added" }
        #expect(locks.count == 1 && locks.first?["subject"] as? String == "alice")
        #expect((locks.first?["reason"] as? String)?.hasPrefix("account_lock:5;seconds:900;offense:1") == true)
        let root = try harness.token(scopes: [], subject: "root", roles: ["admin"])
        let listed = try TestHTTPClient(port: harness.admin.port).request(
            "GET", "/admin/bans", headers: [("Authorization", "Bearer \(root)")])
        let entries = try #require(listed.json?["bans"] as? [[String: Any]])
        #expect(entries.count == 1 && entries.first?["kind"] as? String == "account")
        #expect(entries.first?["address"] as? String == "account:alice")
        // The lock ends on the clock; the next one lasts twice as long.
        harness.clock.advance(seconds: 901)
        #expect(try Self.login(harness, from: "127.0.0.51", password: TokenEndpointTests.password).status == 200)
        for index in 70...74 { _ = try Self.login(harness, from: "127.0.0.\(index)", password: "wrong") }
        let again = try harness.auditRecords().compactMap { $0["reason"] as? String }.filter {
            $0.hasPrefix("account_lock")
        }
        #expect(again.last?.contains("seconds:1800;offense:2") == true, "\(again)")
        // An admin lifts the lock.
        let lifted = try TestHTTPClient(port: harness.admin.port).request(
            "DELETE", "/admin/bans/account%3Aalice", headers: [("Authorization", "Bearer \(root)")])
        #expect(lifted.status == 200, "\(lifted.text)")
        #expect(try Self.login(harness, from: "127.0.0.51", password: TokenEndpointTests.password).status == 200)
    }

    @Test(
        "a name no user can have is never locked, however many addresses fail on it; its guesses still ban them",
        arguments: [String(repeating: "a", count: 65), String(repeating: "n", count: 12_000), "al ice", "\u{e5}lice"]
    )
    func impossibleNamesAreNotLocked(name: String) throws {
        let harness = try Self.harness(maxFailures: 5)
        defer { harness.shutdown() }
        func guess(from address: String) throws {
            let form = [("grant_type", "password"), ("username", name), ("password", "wrong")]
            let response = try TokenEndpointTests.post(harness, form, headers: [("X-Forwarded-For", address)])
            #expect(response.status == 400 && response.json?["error"] as? String == "invalid_grant", "\(response.text)")
        }
        // Five addresses, one failure each: a lock for a name a user could have (see above), nothing here.
        for index in 90...94 { try guess(from: "127.0.0.\(index)") }
        #expect(try harness.metric("bans_active") == 0)
        #expect(try harness.auditRecords().filter { $0["type"] as? String == "ban.added" }.isEmpty)
        // Five from one address ban it, by its own failures.
        for _ in 0..<5 { try guess(from: "127.0.0.95") }
        #expect(try Self.isBanned(harness, "127.0.0.95"))
        let bans = try harness.auditRecords().compactMap { $0["type"] as? String == "ban.added" ? $0["reason"] : nil }
        #expect(bans.count == 1 && (bans.first as? String)?.hasPrefix("address_failures:5;") == true, "\(bans)")
    }

    @Test("an account lock bans the addresses that made at least two of its failures, and only those")
    func heavyGuessersAreBanned() throws {
        let harness = try Self.harness(maxFailures: 5)
        defer { harness.shutdown() }
        let guesses = ["127.0.0.80", "127.0.0.80", "127.0.0.81", "127.0.0.82", "127.0.0.82"]
        for address in guesses { #expect(try Self.login(harness, from: address, password: "wrong").status == 400) }
        #expect(try Self.isBanned(harness, "127.0.0.80"))
        #expect(try Self.isBanned(harness, "127.0.0.82"))
        #expect(try Self.isBanned(harness, "127.0.0.81") == false)
        #expect(try harness.metric("bans_active") == 3)
        let bans = try harness.auditRecords().filter {
            $0["type"] as? String == "ban.added" && ($0["reason"] as? String)?.hasPrefix("account_failures:2") == true
        }
        #expect(Set(bans.compactMap { $0["client_address"] as? String }) == ["127.0.0.80", "127.0.0.82"])
    }

    @Test("an admin is served on the admin listener from a banned address; nobody else from it is")
    func adminFromBannedAddress() throws {
        let harness = try Self.harness()
        defer { harness.shutdown() }
        for attempt in 0..<10 { _ = try Self.login(harness, from: "127.0.0.1", password: "wrong \(attempt)") }
        #expect(try Self.isBanned(harness, "127.0.0.1"))
        let root = try harness.token(scopes: [], subject: "root", roles: ["admin"])
        let developer = try harness.token(scopes: [], subject: "dev", roles: ["developer"])
        let forged = try harness.token(
            scopes: [], subject: "root", secret: GatewayHarness.otherSecret, roles: ["admin"])
        func admin(_ method: String, _ path: String, _ token: String?) throws -> TestHTTPClient.Response {
            try TestHTTPClient(port: harness.admin.port).request(
                method, path, headers: token.map { [("Authorization", "Bearer \($0)")] } ?? [])
        }
        // The ban holds for everyone but an admin.
        for token in [nil, developer, forged] {
            let refused = try admin("GET", "/admin/keys", token)
            #expect(refused.status == 429 && refused.errorCode == "E9402", "\(refused.text)")
        }
        let keys = try admin("GET", "/admin/keys", root)
        #expect(keys.status == 200, "\(keys.text)")
        let lifted = try admin("DELETE", "/admin/bans/127.0.0.1", root)
        #expect(lifted.status == 200, "\(lifted.text)")
        #expect(try Self.isBanned(harness, "127.0.0.1") == false)
        #expect(try Self.login(harness, from: "127.0.0.1", password: TokenEndpointTests.password).status == 200)
    }
}
