import Auth
import Config
import Foundation
import Gateway
import Store
import Testing

/// `POST /auth/token` and `POST /auth/revoke` through the running gateway.
@Suite("Token endpoint")
struct TokenEndpointTests {
    static let password = "correct horse battery staple"

    static func harness() throws -> GatewayHarness {
        var options = GatewayHarness.Options()
        options.withCredentials = true
        options.withTokens = true
        let harness = try GatewayHarness(options)
        let store = try #require(harness.credentials).store
        try store.createUser(
            UserRecord(
                username: "alice", passwordHash: PasswordHasher().hash(password), roles: ["developer"],
                createdAt: harness.clock.unixSeconds()))
        return harness
    }

    static func form(_ pairs: [(String, String)]) -> [UInt8] {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
        return Array(
            pairs.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }
                .joined(separator: "&").utf8)
    }

    static func post(
        _ harness: GatewayHarness, _ pairs: [(String, String)], path: String = "/auth/token",
        headers: [(String, String)] = []
    ) throws -> TestHTTPClient.Response {
        try harness.send(
            "POST", path, headers: [("Content-Type", "application/x-www-form-urlencoded")] + headers,
            body: form(pairs))
    }

    static func login(_ harness: GatewayHarness) throws -> TestHTTPClient.Response {
        try post(harness, [("grant_type", "password"), ("username", "alice"), ("password", password)])
    }

    static func call(_ harness: GatewayHarness, _ token: String) throws -> Int {
        try harness.send("GET", "/api/v1/events", headers: [("Authorization", "Bearer \(token)")]).status
    }

    @Test("log in, call a route, refresh, then a replayed refresh revokes the family and its access tokens")
    func loginRefreshReplay() throws {
        let harness = try Self.harness()
        defer { harness.shutdown() }
        let login = try Self.login(harness)
        #expect(login.status == 200, "\(login.text)")
        #expect(login.header("Cache-Control") == "no-store" && login.header("Pragma") == "no-cache")
        #expect(login.json?["token_type"] as? String == "Bearer" && login.json?["expires_in"] as? Int == 600)
        let access = try #require(login.json?["access_token"] as? String)
        let refresh = try #require(login.json?["refresh_token"] as? String)
        let verifier = try #require(harness.service.authentication?.keyRing.verifier)
        let claims = try verifier.verify(access)
        #expect(claims.subject == "alice" && claims.roles == ["developer"] && claims.keyID != nil)
        #expect(claims.jwtID != nil && claims.issuer == "story-portal")
        #expect(try Self.call(harness, access) == 200)

        let refreshed = try Self.post(harness, [("grant_type", "refresh_token"), ("refresh_token", refresh)])
        #expect(refreshed.status == 200, "\(refreshed.text)")
        let access2 = try #require(refreshed.json?["access_token"] as? String)
        let refresh2 = try #require(refreshed.json?["refresh_token"] as? String)
        #expect(refresh2 != refresh && access2 != access)
        #expect(try Self.call(harness, access2) == 200)

        // The spent token comes back: a thief or a confused client. Everyone in the family is out.
        let replay = try Self.post(harness, [("grant_type", "refresh_token"), ("refresh_token", refresh)])
        #expect(replay.status == 400 && replay.json?["error"] as? String == "invalid_grant")
        let stolen = try Self.post(harness, [("grant_type", "refresh_token"), ("refresh_token", refresh2)])
        #expect(stolen.status == 400)
        #expect(try Self.call(harness, access2) == 401)
        #expect(try Self.call(harness, access) == 401)
        let records = try harness.auditRecords()
        let replayRecord = records.first { $0["type"] as? String == "token.refresh_replayed" }
        #expect(replayRecord?["subject"] as? String == "alice")
        #expect(replayRecord?["reason"] as? String == "family_revoked:2")
        #expect(records.filter { $0["type"] as? String == "token.issued" }.count == 2)
        let text = harness.auditText()
        for secret in [Self.password, refresh, refresh2, access] { #expect(!text.contains(secret)) }
    }

    @Test("wrong passwords, unknown and disabled users all get the same 400 invalid_grant, echoing nothing")
    func badLogins() throws {
        let harness = try Self.harness()
        defer { harness.shutdown() }
        try #require(harness.credentials).store.createUser(
            UserRecord(
                username: "bob", passwordHash: PasswordHasher().hash(Self.password), roles: ["viewer"],
                disabled: true, createdAt: 1))
        var bodies: Set<String> = []
        for (user, password) in [("alice", "wrong password!"), ("nobody", Self.password), ("bob", Self.password)] {
            let response = try Self.post(
                harness, [("grant_type", "password"), ("username", user), ("password", password)])
            #expect(response.status == 400 && response.json?["error"] as? String == "invalid_grant")
            #expect(response.json?["error_code"] as? String == "E9112")
            #expect(!response.text.contains(password) && !response.text.contains(user))
            bodies.insert(response.json?["error_description"] as? String ?? "")
        }
        #expect(bodies.count == 1)
        #expect(try harness.metric("auth_failures_total") == 3)
        #expect(!harness.auditText().contains("wrong password"))
    }

    @Test("client_credentials: an API key by HTTP Basic or in the body gets a token for its name; a bad one 401")
    func clientCredentials() throws {
        let harness = try Self.harness()
        defer { harness.shutdown() }
        let key = try GatewayAPIKeyTests.storeKey(harness, name: "l05", scopes: ["events:read"])
        let id = String(key.prefix(20))
        let secret = String(key.suffix(43))
        let basic = "Basic " + Data("\(id):\(secret)".utf8).base64EncodedString()
        let byBasic = try Self.post(
            harness, [("grant_type", "client_credentials")], headers: [("Authorization", basic)])
        #expect(byBasic.status == 200, "\(byBasic.text)")
        #expect(byBasic.json?["refresh_token"] == nil && byBasic.json?["scope"] as? String == "events:read")
        let token = try #require(byBasic.json?["access_token"] as? String)
        let verifier = try #require(harness.service.authentication?.keyRing.verifier)
        #expect(try verifier.verify(token).subject == "l05")
        #expect(try Self.call(harness, token) == 200)
        let byBody = try Self.post(
            harness, [("grant_type", "client_credentials"), ("client_id", id), ("client_secret", key)])
        #expect(byBody.status == 200)
        let wrong = try Self.post(
            harness,
            [("grant_type", "client_credentials"), ("client_id", id), ("client_secret", String(secret.reversed()))])
        #expect(wrong.status == 401 && wrong.json?["error"] as? String == "invalid_client")
        #expect(wrong.header("WWW-Authenticate") == #"Basic realm="story-portal""#)
        let tooMuch = try Self.post(
            harness, [("grant_type", "client_credentials"), ("client_secret", key), ("scope", "events:write")])
        #expect(tooMuch.status == 400 && tooMuch.json?["error"] as? String == "invalid_scope")
    }

    @Test("RFC 6749 request errors: method, media type, repeats, URL parameters, grant types; JSON bodies work")
    func requestErrors() throws {
        let harness = try Self.harness()
        defer { harness.shutdown() }
        let get = try harness.send("GET", "/auth/token")
        #expect(get.status == 405 && get.header("Allow") == "POST")
        let plain = try harness.send(
            "POST", "/auth/token", headers: [("Content-Type", "text/plain")], body: Array("grant_type=password".utf8))
        #expect(plain.json?["error_code"] as? String == "E9111")
        let twice = try Self.post(harness, [("grant_type", "password"), ("grant_type", "password")])
        #expect(twice.status == 400 && twice.json?["error"] as? String == "invalid_request")
        let inURL = try harness.send(
            "POST", "/auth/token?password=hunter2", headers: [("Content-Type", "application/x-www-form-urlencoded")],
            body: Self.form([("grant_type", "password")]))
        #expect(inURL.json?["error_code"] as? String == "E9116" && !inURL.text.contains("hunter2"))
        let implicit = try Self.post(harness, [("grant_type", "implicit")])
        #expect(implicit.json?["error"] as? String == "unsupported_grant_type")
        #expect(try Self.post(harness, [("username", "alice")]).json?["error"] as? String == "invalid_request")
        let badEscape = try harness.send(
            "POST", "/auth/token", headers: [("Content-Type", "application/x-www-form-urlencoded")],
            body: Array("grant_type=password&username=%zz".utf8))
        #expect(badEscape.json?["error"] as? String == "invalid_request")
        let json = try harness.send(
            "POST", "/auth/token", headers: [("Content-Type", "application/json; charset=utf-8")],
            body: Array(
                (#"{"grant_type":"password","username":"alice","password":"\#(Self.password)","#
                    + #""scope":"events:read"}"#).utf8))
        #expect(json.status == 200 && json.json?["scope"] as? String == "events:read")
        let wider = try Self.post(
            harness,
            [("grant_type", "password"), ("username", "alice"), ("password", Self.password), ("scope", "admin:all")])
        #expect(wider.json?["error"] as? String == "invalid_scope")
    }

    @Test("scope: the answer lists what roles grant too; a narrower ask gets a token that holds only that")
    func scopeNarrowing() throws {
        let harness = try Self.harness()
        defer { harness.shutdown() }
        let verifier = try #require(harness.service.authentication?.keyRing.verifier)
        // alice holds no scopes of her own; her developer role grants events:read and events:write.
        let full = try Self.login(harness)
        #expect(full.json?["scope"] as? String == "events:read events:write", "\(full.text)")
        let fullToken = try #require(full.json?["access_token"] as? String)
        #expect(try verifier.verify(fullToken).roles == ["developer"])
        #expect(try Self.write(harness, fullToken) == 201)

        // Asked for events:read only: the token cannot write, through its role or otherwise, nor can its refresh.
        let narrow = try Self.post(
            harness,
            [("grant_type", "password"), ("username", "alice"), ("password", Self.password), ("scope", "events:read")])
        #expect(narrow.status == 200 && narrow.json?["scope"] as? String == "events:read", "\(narrow.text)")
        let narrowToken = try #require(narrow.json?["access_token"] as? String)
        let claims = try verifier.verify(narrowToken)
        #expect(claims.roles.isEmpty && claims.scopes == ["events:read"])
        #expect(try Self.call(harness, narrowToken) == 200)
        #expect(try Self.write(harness, narrowToken) == 403)
        let refresh = try #require(narrow.json?["refresh_token"] as? String)
        let refreshed = try Self.post(harness, [("grant_type", "refresh_token"), ("refresh_token", refresh)])
        #expect(refreshed.json?["scope"] as? String == "events:read", "\(refreshed.text)")
        let again = try #require(refreshed.json?["access_token"] as? String)
        #expect(try Self.write(harness, again) == 403)

        // Only spaces, or everything without a role that grants it, is not a scope that can be granted. (An empty
        // value counts as no parameter at all, RFC 6749 §3.1, and gets the full token.)
        for asked in [" ", "  ", "*", "events:read *"] {
            let refused = try Self.post(
                harness,
                [("grant_type", "password"), ("username", "alice"), ("password", Self.password), ("scope", asked)])
            #expect(refused.json?["error"] as? String == "invalid_scope", "scope \"\(asked)\": \(refused.text)")
        }
    }

    static func write(_ harness: GatewayHarness, _ token: String) throws -> Int {
        let body = #"{"event_type":"t.created","aggregate_type":"t","aggregate_id":"t-1","payload":{}}"#
        return try harness.send(
            "POST", "/api/v1/events",
            headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")],
            body: Array(body.utf8)
        ).status
    }

    @Test("revocation: an access token stops at once, a refresh token ends its family, unknown tokens get 200")
    func revocation() throws {
        let harness = try Self.harness()
        defer { harness.shutdown() }
        let login = try Self.login(harness)
        let access = try #require(login.json?["access_token"] as? String)
        let refresh = try #require(login.json?["refresh_token"] as? String)
        #expect(try Self.post(harness, [("token", access)], path: "/auth/revoke").status == 200)
        #expect(try Self.call(harness, access) == 401)
        let hinted = try Self.post(
            harness, [("token", refresh), ("token_type_hint", "refresh_token")], path: "/auth/revoke")
        #expect(hinted.status == 200)
        let refused = try Self.post(harness, [("grant_type", "refresh_token"), ("refresh_token", refresh)])
        #expect(refused.status == 400)
        #expect(try Self.post(harness, [("token", "not-a-token")], path: "/auth/revoke").status == 200)
        #expect(try Self.post(harness, [], path: "/auth/revoke").json?["error"] as? String == "invalid_request")
    }
}
