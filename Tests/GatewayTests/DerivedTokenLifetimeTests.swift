import Auth
import Store
import Testing

/// Tokens the gateway issues live no longer than what they were issued on: a client-credentials token dies with
/// its API key, a user's tokens and refresh families with a password change (or a disable).
@Suite("Issued tokens follow their key and their user")
struct DerivedTokenLifetimeTests {
    static func clientToken(_ harness: GatewayHarness, key: String) throws -> String {
        let answer = try TokenEndpointTests.post(
            harness, [("grant_type", "client_credentials"), ("client_secret", key)])
        #expect(answer.status == 200, "\(answer.text)")
        return try #require(answer.json?["access_token"] as? String)
    }

    static func admin(_ harness: GatewayHarness, _ method: String, _ path: String, _ body: String? = nil) throws
        -> TestHTTPClient.Response
    {
        let root = try harness.token(scopes: [], subject: "root", roles: ["admin"])
        return try TestHTTPClient(port: harness.admin.port).request(
            method, path, headers: [("Authorization", "Bearer \(root)"), ("Content-Type", "application/json")],
            body: body)
    }

    @Test("revoking an API key, here or in another process, voids the tokens minted from it")
    func revokedKey() throws {
        let harness = try TokenEndpointTests.harness()
        defer { harness.shutdown() }
        let credentials = try #require(harness.credentials)

        // Through this gateway's admin API: at once.
        let key = try GatewayAPIKeyTests.storeKey(harness, name: "l05", scopes: ["events:read"])
        let token = try Self.clientToken(harness, key: key)
        #expect(try TokenEndpointTests.call(harness, token) == 200)
        #expect(try Self.admin(harness, "DELETE", "/admin/keys/\(key.prefix(20))").status == 200)
        let refused = try harness.send("GET", "/api/v1/events", headers: [("Authorization", "Bearer \(token)")])
        #expect(refused.status == 401 && refused.errorCode == "E9106", "\(refused.text)")

        // By `portal key revoke` elsewhere: once the cache re-reads the store.
        let other = try GatewayAPIKeyTests.storeKey(harness, name: "l06", scopes: ["events:read"])
        let otherToken = try Self.clientToken(harness, key: other)
        #expect(try TokenEndpointTests.call(harness, otherToken) == 200)
        #expect(try credentials.store.revokeAPIKey(id: String(other.prefix(20)), at: harness.clock.unixSeconds()))
        try credentials.refresh()
        #expect(try TokenEndpointTests.call(harness, otherToken) == 401)
    }

    @Test("a rotated key's tokens work through the grace period and die with it")
    func rotatedKey() throws {
        let harness = try TokenEndpointTests.harness()
        defer { harness.shutdown() }
        let key = try GatewayAPIKeyTests.storeKey(harness, name: "l07", scopes: ["events:read"])
        let token = try Self.clientToken(harness, key: key)
        let rotated = try Self.admin(harness, "POST", "/admin/keys/\(key.prefix(20))/rotate", #"{"grace_seconds":60}"#)
        #expect(rotated.status == 201, "\(rotated.text)")
        #expect(try TokenEndpointTests.call(harness, token) == 200)
        harness.clock.advance(seconds: 61)
        #expect(try TokenEndpointTests.call(harness, token) == 401)
        // The replacement's tokens are unaffected.
        let replacement = try #require(rotated.json?["key"] as? String)
        #expect(try TokenEndpointTests.call(harness, try Self.clientToken(harness, key: replacement)) == 200)
    }

    @Test("a password change voids the user's access tokens and refresh families issued before it")
    func passwordChange() throws {
        let harness = try TokenEndpointTests.harness()
        defer { harness.shutdown() }
        let credentials = try #require(harness.credentials)
        let login = try TokenEndpointTests.login(harness)
        let access = try #require(login.json?["access_token"] as? String)
        let refresh = try #require(login.json?["refresh_token"] as? String)
        #expect(try TokenEndpointTests.call(harness, access) == 200)

        // `portal user passwd` in another process, a second later; this gateway re-reads the store.
        harness.clock.advance(seconds: 1)
        let hash = PasswordHasher().hash("a brand new passphrase for alice")
        #expect(
            try credentials.store.updatePassword(
                username: "alice", passwordHash: hash, weakPassword: false, at: harness.clock.unixSeconds()))
        try credentials.refresh()
        let refused = try harness.send("GET", "/api/v1/events", headers: [("Authorization", "Bearer \(access)")])
        #expect(refused.status == 401 && refused.errorCode == "E9106")
        let renewed = try TokenEndpointTests.post(
            harness, [("grant_type", "refresh_token"), ("refresh_token", refresh)])
        #expect(renewed.status == 400 && renewed.json?["error"] as? String == "invalid_grant", "\(renewed.text)")

        // A login with the new password works, and its tokens do.
        let again = try TokenEndpointTests.post(
            harness,
            [("grant_type", "password"), ("username", "alice"), ("password", "a brand new passphrase for alice")])
        #expect(again.status == 200)
        let fresh = try #require(again.json?["access_token"] as? String)
        #expect(try TokenEndpointTests.call(harness, fresh) == 200)
        let next = try #require(again.json?["refresh_token"] as? String)
        #expect(
            try TokenEndpointTests.post(harness, [("grant_type", "refresh_token"), ("refresh_token", next)]).status
                == 200)
    }

    @Test("disabling a user voids the user's access tokens")
    func disabledUser() throws {
        let harness = try TokenEndpointTests.harness()
        defer { harness.shutdown() }
        let credentials = try #require(harness.credentials)
        let access = try #require(try TokenEndpointTests.login(harness).json?["access_token"] as? String)
        #expect(try TokenEndpointTests.call(harness, access) == 200)
        #expect(
            try credentials.store.setUserDisabled(username: "alice", disabled: true, at: harness.clock.unixSeconds()))
        try credentials.refresh()
        #expect(try TokenEndpointTests.call(harness, access) == 401)
    }
}
