import Foundation
import Testing

/// The pipeline's order over real sockets: route, authenticate, authorize, proxy; each refusal a JSON error.
@Suite("Gateway pipeline")
struct GatewayPipelineTests {
    @Test("a request without a token gets 401, WWW-Authenticate, E9101 and the request id it was answered under")
    func missingToken() throws {
        let harness = try GatewayHarness()
        defer { harness.shutdown() }
        let before = try harness.metric("unauthorized_access_total")

        let response = try harness.send("GET", "/echo/x")

        #expect(response.status == 401)
        #expect(response.header("WWW-Authenticate")?.hasPrefix("Bearer") == true)
        #expect(response.header("Content-Type") == "application/json")
        #expect(response.errorCode == "E9101")
        let requestID = try #require(response.header("X-Request-ID"))
        #expect(requestID.count == 32)
        #expect((response.json?["error"] as? [String: Any])?["request_id"] as? String == requestID)
        #expect(try harness.metric("unauthorized_access_total") == before + 1)
        #expect(harness.fake.seen.isEmpty)
    }

    @Test("bad, expired, foreign and wrongly signed credentials get 401 and move auth_failures_total")
    func rejectedCredentials() throws {
        let harness = try GatewayHarness()
        defer { harness.shutdown() }
        let scopes = ["echo:read"]
        let cases: [(label: String, authorization: String, code: String)] = [
            ("basic scheme", "Basic dXNlcjpwYXNz", "E9103"),
            ("scheme without token", "Bearer ", "E9103"),
            ("token without scheme", try harness.token(scopes: scopes), "E9103"),
            ("garbage token", "Bearer not.a.jwt", "E9102"),
            ("two segments", "Bearer abc.def", "E9102"),
            ("expired token", "Bearer " + (try harness.token(scopes: scopes, expiresInSeconds: -3600)), "E9102"),
            (
                "signed with another secret",
                "Bearer " + (try harness.token(scopes: scopes, secret: GatewayHarness.otherSecret)), "E9102"
            ),
            (
                "alg HS384 with the same secret",
                "Bearer "
                    + harness.forgedToken(header: #"{"alg":"HS384","typ":"JWT"}"#, scopes: scopes, digest: .sha384),
                "E9102"
            ),
            (
                "alg none",
                "Bearer " + harness.forgedToken(header: #"{"alg":"none","typ":"JWT"}"#, scopes: scopes), "E9102"
            ),
            (
                "alg RS256 over an HMAC",
                "Bearer " + harness.forgedToken(header: #"{"alg":"RS256","typ":"JWT"}"#, scopes: scopes), "E9102"
            ),
        ]
        for (label, authorization, code) in cases {
            let before = try harness.metric("auth_failures_total")
            let response = try harness.send("GET", "/echo/x", headers: [("Authorization", authorization)])
            #expect(response.status == 401, "\(label)")
            #expect(response.errorCode == code, "\(label)")
            #expect(response.header("WWW-Authenticate") != nil, "\(label)")
            #expect(try harness.metric("auth_failures_total") == before + 1, "\(label)")
        }
        #expect(harness.fake.seen.isEmpty)
    }

    @Test("two Authorization fields are refused with 400 E9104 whatever their order, and reach no upstream")
    func duplicateCredentials() throws {
        let harness = try GatewayHarness()
        defer { harness.shutdown() }
        let good = "Bearer " + (try harness.token(scopes: ["echo:read"]))
        for pair in [[good, "Bearer attacker-chosen"], ["Bearer attacker-chosen", good], [good, good]] {
            let response = try harness.send("GET", "/echo/x", headers: pair.map { ("Authorization", $0) })
            #expect(response.status == 400)
            #expect(response.errorCode == "E9104")
        }
        #expect(harness.fake.seen.isEmpty)
    }

    @Test(
        "a token whose subject or scope holds a control byte is refused, not forwarded without its identity",
        arguments: ["user\r\nX-Admin: 1", "user\u{0}", "user\u{7F}", "tab\tbed"])
    func controlBytesInClaims(subject: String) throws {
        let harness = try GatewayHarness()
        defer { harness.shutdown() }
        let bySubject = try harness.token(scopes: ["echo:read"], subject: subject)
        let byScope = try harness.token(scopes: ["echo:read", "x\r\ny"])
        for token in [bySubject, byScope] {
            let response = try harness.send("GET", "/echo/x", headers: [("Authorization", "Bearer " + token)])
            #expect(response.status == 401)
        }
        #expect(harness.fake.seen.isEmpty)
    }

    @Test("a valid token without the route's scope gets 403 E9201 and moves unauthorized_access_total")
    func missingScope() throws {
        let harness = try GatewayHarness()
        defer { harness.shutdown() }
        let before = try harness.metric("unauthorized_access_total")
        let readOnly = try harness.token(scopes: ["echo:read", "events:write"])

        let response = try harness.send(
            "POST", "/echo/x", headers: [("Authorization", "Bearer " + readOnly)], body: Array("{}".utf8))

        #expect(response.status == 403)
        #expect(response.errorCode == "E9201")
        #expect(response.header("WWW-Authenticate") == nil)
        #expect(try harness.metric("unauthorized_access_total") == before + 1)
        #expect(harness.fake.seen.isEmpty)
    }

    @Test("a valid token with the scope is proxied and the upstream's status reaches the client")
    func validTokenIsProxied() throws {
        let harness = try GatewayHarness()
        defer { harness.shutdown() }
        let token = try harness.token(scopes: ["echo:read", "echo:write"])
        let bearer = [("Authorization", "Bearer " + token)]

        harness.fake.setReply(UpstreamReply(status: 200, body: Array("read".utf8)))
        let read = try harness.send("GET", "/echo/item", headers: bearer)
        harness.fake.setReply(UpstreamReply(status: 201, body: Array("made".utf8)))
        let write = try harness.send("POST", "/echo/item", headers: bearer, body: Array("x".utf8))

        #expect(read.status == 200)
        #expect(read.text == "read")
        #expect(write.status == 201)
        #expect(write.text == "made")
        #expect(harness.fake.seen.map(\.method) == ["GET", "POST"])
    }

    @Test("a public route needs no token")
    func publicRoute() throws {
        let harness = try GatewayHarness()
        defer { harness.shutdown() }
        harness.fake.setReply(UpstreamReply(status: 200, body: Array("open".utf8)))

        let response = try harness.send("GET", "/public/page")

        #expect(response.status == 200)
        #expect(response.text == "open")
        #expect(harness.fake.seen.count == 1)
    }

    @Test("a path no route names gets 404 E9001, before any credential is asked for")
    func unknownPath() throws {
        let harness = try GatewayHarness()
        defer { harness.shutdown() }
        let paths = ["/", "/nope", "/echoes", "/api/v1/eventsX", "/api/v2/events", "/ECHO/x"]
        for path in paths {
            let response = try harness.send("GET", path)
            #expect(response.status == 404, "\(path)")
            #expect(response.errorCode == "E9001", "\(path)")
        }
        #expect(harness.fake.seen.isEmpty)
    }

    @Test("a method the route does not allow gets 405 with Allow, before authentication")
    func wrongMethod() throws {
        let harness = try GatewayHarness()
        defer { harness.shutdown() }
        let before = try harness.metric("unauthorized_access_total")

        let response = try harness.send("DELETE", "/echo/x")
        let events = try harness.send("PUT", "/api/v1/events", body: Array("{}".utf8))

        #expect(response.status == 405)
        #expect(response.errorCode == "E9002")
        #expect(response.header("Allow") == "GET, POST, PUT")
        #expect(events.status == 405)
        #expect(events.header("Allow") == "GET, POST")
        #expect(try harness.metric("unauthorized_access_total") == before)
    }
}
