import Auth
import Foundation
import Config
import Gateway
import Store
import Testing

/// API keys through the running gateway, and the admin API that makes, rotates and revokes them.
@Suite("Gateway API keys and the admin API")
struct GatewayAPIKeyTests {
    static func harness(refreshSeconds: Double = 3600) throws -> GatewayHarness {
        var options = GatewayHarness.Options()
        options.withCredentials = true
        options.credentialRefreshSeconds = refreshSeconds
        return try GatewayHarness(options)
    }

    /// Stores a key straight into the harness's store, as `portal key create` in another process would.
    static func storeKey(
        _ harness: GatewayHarness, name: String = "l03", scopes: [String] = ["echo:read"], lifetime: Int? = nil
    ) throws -> String {
        let credentials = try #require(harness.credentials)
        let issued = try APIKeyIssuer.create(
            name: name, scopes: scopes, roles: ["service"], lifetimeSeconds: lifetime, policy: AccessPolicyFixture.open,
            hasher: credentials.hasher, now: harness.clock.unixSeconds())
        try credentials.store.insertAPIKey(issued.record)
        return issued.key
    }

    @Test("a key from X-API-Key or Authorization: Bearer authenticates its name with its scopes")
    func keyHeaders() throws {
        let harness = try Self.harness()
        defer { harness.shutdown() }
        let key = try Self.storeKey(harness)
        for header in [("X-API-Key", key), ("Authorization", "Bearer \(key)")] {
            let response = try harness.send("GET", "/echo/item", headers: [header])
            #expect(response.status == 200, "\(header.0): \(response.text)")
            #expect(harness.fake.seen.last?.values(normalisedName: "x-consumer-id") == ["l03"])
            #expect(harness.fake.seen.last?.values(normalisedName: "x-api-key").isEmpty == true)
            #expect(harness.fake.seen.last?.values(normalisedName: "authorization").isEmpty == true)
        }
        // The scope it lacks: 403, a known caller without the right.
        #expect(try harness.send("POST", "/echo/item", headers: [("X-API-Key", key)]).status == 403)
        // Both headers at once are ambiguous.
        let both = try harness.send("GET", "/echo/item", headers: [("X-API-Key", key), ("Authorization", "Bearer x")])
        #expect(both.status == 400 && both.errorCode == "E9104")
    }

    @Test("wrong secrets, unknown ids, malformed, expired and revoked keys get 401 E9105 and echo nothing")
    func refusedKeys() throws {
        let harness = try Self.harness()
        defer { harness.shutdown() }
        let key = try Self.storeKey(harness)
        let expiring = try Self.storeKey(harness, lifetime: 60)
        let revoked = try Self.storeKey(harness)
        let credentials = try #require(harness.credentials)
        _ = try credentials.store.revokeAPIKey(id: String(revoked.prefix(20)), at: harness.clock.unixSeconds())
        harness.clock.advance(seconds: 61)
        var wrongSecret = Array(key)
        wrongSecret[30] = wrongSecret[30] == "A" ? "B" : "A"
        let unknown = APIKeyFormat.generate().key
        for presented in [String(wrongSecret), unknown, "spk_short", key + "x", expiring, revoked] {
            let response = try harness.send("GET", "/echo/item", headers: [("X-API-Key", presented)])
            #expect(response.status == 401 && response.errorCode == "E9105", "\(presented.prefix(24))")
            #expect(!response.text.contains(presented.suffix(20)))
        }
        #expect(try harness.send("GET", "/echo/item", headers: [("X-API-Key", key)]).status == 200)
        let text = harness.auditText()
        #expect(!text.contains(key.suffix(43)) && !text.contains(unknown.suffix(43)))
        for reason in ["bad_key_secret", "unknown_key", "malformed_key", "expired_key", "revoked_key"] {
            #expect(text.contains("\"\(reason)\""), "\(reason)")
        }
    }

    @Test("a revoked jti is refused on the next request, with no store read on the way")
    func revokedToken() throws {
        let harness = try Self.harness()
        defer { harness.shutdown() }
        let token = try harness.token(scopes: ["echo:read"])
        let header = [("Authorization", "Bearer \(token)")]
        #expect(try harness.send("GET", "/echo/a", headers: header).status == 200)
        let jti = try #require(try harness.service.authentication?.keyRing.verifier.verify(token).jwtID)
        harness.credentials?.revoke(tokenID: jti, untilUnixSeconds: harness.clock.unixSeconds() + 3600, reason: "admin")
        let refused = try harness.send("GET", "/echo/a", headers: header)
        #expect(refused.status == 401 && refused.errorCode == "E9106")
    }

    @Test("the admin API needs an admin: 401 without a credential, 403 with another role")
    func adminNeedsAdmin() throws {
        let harness = try Self.harness()
        defer { harness.shutdown() }
        let admin = try TestHTTPClient(port: harness.admin.port)
        #expect(try admin.request("GET", "/admin/keys").status == 401)
        let developer = try harness.token(scopes: ["events:read"], roles: ["developer"])
        let denied = try TestHTTPClient(port: harness.admin.port).request(
            "GET", "/admin/keys", headers: [("Authorization", "Bearer \(developer)")])
        #expect(denied.status == 403 && denied.errorCode == "E9204")
        // Metrics and health stay open on the admin listener.
        #expect(try TestHTTPClient(port: harness.admin.port).request("GET", "/health/live").status == 200)
    }

    @Test("create, rotate with a grace period during which both keys work, then revoke, through the admin API")
    func adminKeyLifecycle() throws {
        let harness = try Self.harness()
        defer { harness.shutdown() }
        let root = try harness.token(scopes: [], subject: "root", roles: ["admin"])
        func admin(_ method: String, _ path: String, _ body: String? = nil) throws -> TestHTTPClient.Response {
            try TestHTTPClient(port: harness.admin.port).request(
                method, path, headers: [("Authorization", "Bearer \(root)"), ("Content-Type", "application/json")],
                body: body)
        }
        let created = try admin("POST", "/admin/keys", #"{"name":"l07","scopes":["events:read"],"expires_in":86400}"#)
        #expect(created.status == 201, "\(created.text)")
        let key = try #require(created.json?["key"] as? String)
        let id = String(key.prefix(20))
        // More than the service account holds is refused.
        #expect(try admin("POST", "/admin/keys", #"{"name":"l07","scopes":["events:write"]}"#).status == 400)
        #expect(try admin("POST", "/admin/keys", #"{"name":7}"#).status == 400)
        // A second key for a name that has a usable one: 409, rotate it instead.
        let duplicate = try admin("POST", "/admin/keys", #"{"name":"l07","scopes":["events:read"]}"#)
        #expect(duplicate.status == 409 && duplicate.errorCode == "E9440", "\(duplicate.text)")
        let first = try harness.send("GET", "/api/v1/events", headers: [("X-API-Key", key)])
        #expect(first.status == 200, "\(first.text)")

        let rotated = try admin("POST", "/admin/keys/\(id)/rotate", #"{"grace_seconds":300}"#)
        #expect(rotated.status == 201, "\(rotated.text)")
        let newKey = try #require(rotated.json?["key"] as? String)
        #expect(rotated.json?["previous_id"] as? String == id)
        for presented in [key, newKey, key, newKey] {
            #expect(try harness.send("GET", "/api/v1/events", headers: [("X-API-Key", presented)]).status == 200)
        }
        harness.clock.advance(seconds: 301)
        #expect(try harness.send("GET", "/api/v1/events", headers: [("X-API-Key", key)]).status == 401)
        #expect(try harness.send("GET", "/api/v1/events", headers: [("X-API-Key", newKey)]).status == 200)

        let listed = try admin("GET", "/admin/keys")
        #expect(listed.status == 200 && !listed.text.contains(newKey.suffix(43)) && listed.text.contains(id))
        #expect(try admin("DELETE", "/admin/keys/\(newKey.prefix(20))").status == 200)
        // With no usable key left under the name, a new one may be created.
        #expect(try admin("POST", "/admin/keys", #"{"name":"l07","scopes":["events:read"]}"#).status == 201)
        #expect(try harness.send("GET", "/api/v1/events", headers: [("X-API-Key", newKey)]).status == 401)
        #expect(try admin("DELETE", "/admin/keys/\(newKey.prefix(20))").status == 404)
        let types = try harness.auditRecords().compactMap { $0["type"] as? String }
        #expect(types.contains("key.created") && types.contains("key.rotated") && types.contains("key.revoked"))
        #expect(!harness.auditText().contains(key.suffix(43)))
    }
}

/// An access policy without service accounts, so keys of any name carry any scope.
enum AccessPolicyFixture {
    static let open = Config.AccessPolicy(roles: Config.AccessPolicy.defaultRoles, serviceAccounts: [])
}
