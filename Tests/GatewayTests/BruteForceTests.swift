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
    static func harness() throws -> GatewayHarness {
        var options = GatewayHarness.Options()
        options.withCredentials = true
        options.withTokens = true
        options.trustedProxies = try CIDRList(parsing: "127.0.0.1/32", variable: "TRUSTED_PROXIES")
        options.bruteForce = BruteForcePolicy(maxFailures: 10, windowSeconds: 300, baseBanSeconds: 900)
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
}
