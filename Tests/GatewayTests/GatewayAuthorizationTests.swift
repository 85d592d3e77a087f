import Config
import Foundation
import Testing

/// Roles expand to scopes; route rules need scopes and/or roles; a method without a rule is denied to all.
@Suite("Gateway roles and route rules")
struct GatewayAuthorizationTests {
    static func harness() throws -> GatewayHarness {
        var options = GatewayHarness.Options()
        let fake = UpstreamURL(host: "127.0.0.1", port: 1)
        options.fakeUpstreamRoutes = [
            Route(prefix: "/ops", upstream: fake, scopesByMethod: ["GET": []], rolesByMethod: ["GET": ["admin"]]),
            Route(
                prefix: "/reports", upstream: fake, scopesByMethod: ["GET": ["reports:read"]],
                rolesByMethod: ["GET": ["viewer", "developer"]]),
            Route(prefix: "/norule", upstream: fake, scopesByMethod: ["GET": [], "POST": ["x:write"]]),
        ]
        return try GatewayHarness(options)
    }

    private func status(_ harness: GatewayHarness, _ method: String, _ path: String, _ token: String) throws
        -> TestHTTPClient.Response
    {
        try harness.send(method, path, headers: [("Authorization", "Bearer \(token)")])
    }

    @Test("roles in the token expand to the scopes the policy gives them: developer writes, viewer only reads")
    func roleExpansion() throws {
        let harness = try Self.harness()
        defer { harness.shutdown() }
        let developer = try harness.token(scopes: [], roles: ["developer"])
        let viewer = try harness.token(scopes: [], roles: ["viewer"])
        #expect(try status(harness, "GET", "/api/v1/events", developer).status == 200)
        #expect(try status(harness, "GET", "/api/v1/events", viewer).status == 200)
        let body = #"{"event_type":"a","aggregate_type":"b","aggregate_id":"c","payload":{}}"#
        let write = try harness.send(
            "POST", "/api/v1/events",
            headers: [("Authorization", "Bearer \(developer)"), ("Content-Type", "application/json")],
            body: Array(body.utf8))
        #expect(write.status == 201)
        let refused = try status(harness, "POST", "/api/v1/events", viewer)
        #expect(refused.status == 403 && refused.errorCode == "E9201")
        // Neither role grants echo:read.
        #expect(try status(harness, "GET", "/echo/x", developer).status == 403)
    }

    @Test("admin holds every scope; a token's own \"*\" scope and unknown roles grant nothing")
    func adminAndWildcards() throws {
        let harness = try Self.harness()
        defer { harness.shutdown() }
        let admin = try harness.token(scopes: [], subject: "root", roles: ["admin"])
        #expect(try status(harness, "GET", "/echo/x", admin).status == 200)
        let scopes = try #require(harness.fake.seen.last?.values(normalisedName: "x-consumer-scopes").first)
        #expect(scopes.hasPrefix("*"))
        #expect(harness.fake.seen.last?.values(normalisedName: "x-consumer-id") == ["root"])
        let star = try harness.token(scopes: ["*"])
        #expect(try status(harness, "GET", "/echo/x", star).status == 403)
        let unknown = try harness.token(scopes: [], roles: ["superuser", "root"])
        #expect(try status(harness, "GET", "/echo/x", unknown).status == 403)
    }

    @Test("a route may demand one of its roles: 403 E9203 without it, through with it")
    func routeRoles() throws {
        let harness = try Self.harness()
        defer { harness.shutdown() }
        let developer = try harness.token(scopes: ["reports:read"], roles: ["developer"])
        let denied = try status(harness, "GET", "/ops", developer)
        #expect(denied.status == 403 && denied.errorCode == "E9203")
        #expect(try status(harness, "GET", "/ops", harness.token(scopes: [], roles: ["admin"])).status == 200)
        #expect(try status(harness, "GET", "/reports/1", developer).status == 200)
        // The scope is there, but no listed role.
        let service = try harness.token(scopes: ["reports:read"], roles: ["service"])
        #expect(try status(harness, "GET", "/reports/1", service).errorCode == "E9203")
        // The role is there, but not the scope.
        let viewer = try harness.token(scopes: [], roles: ["viewer"])
        #expect(try status(harness, "GET", "/reports/1", viewer).errorCode == "E9201")
    }

    @Test("a method that names no scope and no role is denied to everyone, admin included, and audited")
    func denyByDefault() throws {
        let harness = try Self.harness()
        defer { harness.shutdown() }
        for token in [try harness.token(scopes: ["x:write"]), try harness.token(scopes: [], roles: ["admin"])] {
            let response = try status(harness, "GET", "/norule/a", token)
            #expect(response.status == 403 && response.errorCode == "E9202")
        }
        #expect(try status(harness, "POST", "/norule/a", harness.token(scopes: ["x:write"])).status == 200)
        #expect(harness.fake.seen.count == 1)
        let denials = try harness.auditRecords().filter { $0["type"] as? String == "authz.denied" }
        #expect(denials.count == 2 && denials.allSatisfy { $0["reason"] as? String == "no_rule" })
        #expect(try harness.metric("unauthorized_access_total") == 2)
    }
}
