import Config
import Testing

/// What the upstream sees, and what the client gets back: gateway-owned and hop-by-hop fields are the gateway's.
@Suite("Gateway proxy headers")
struct GatewayProxyHeaderTests {
    /// Client-sent fields that only the gateway may set, in every spelling a lenient upstream might fold together.
    static let spoofed: [(String, String)] = [
        ("X-Forwarded-For", "6.6.6.6"), ("X_Forwarded_For", "6.6.6.7"), ("x.forwarded.for", "6.6.6.8"),
        ("X-Real-IP", "6.6.6.9"), ("X_Real_IP", "6.6.6.10"), ("x.real.ip", "6.6.6.11"),
        ("Forwarded", "for=6.6.6.12"), ("X-Forwarded-Proto", "https"), ("X_Forwarded_Proto", "https"),
        ("X-Forwarded-Host", "evil.example"), ("X-Forwarded-Port", "443"),
        ("X-Consumer-ID", "admin"), ("X_Consumer_ID", "admin"), ("x.consumer.scopes", "everything"),
        ("X-Consumer-Custom", "1"), ("X-Service-Key", "stolen"), ("X_Service_Key", "stolen"),
        ("x.service.key", "stolen"),
    ]

    /// Hop-by-hop fields, and one named only in `Connection`.
    static let hopByHop: [(String, String)] = [
        ("Connection", "keep-alive, X-Hop-Secret"), ("X-Hop-Secret", "hop"), ("Keep-Alive", "timeout=5"),
        ("TE", "trailers"), ("Trailer", "X-Checksum"), ("Proxy-Authorization", "Basic cHJveHk6cGFzcw=="),
        ("Proxy-Connection", "keep-alive"),
    ]

    @Test("the upstream sees the gateway's forwarding fields and none of the client's spoofed or hop-by-hop ones")
    func requestFieldsAreTheGateways() throws {
        let harness = try GatewayHarness()
        defer { harness.shutdown() }
        let token = try harness.token(scopes: ["echo:read"], subject: "user-7")
        let headers = [("Authorization", "Bearer " + token), ("X-Custom", "kept")] + Self.spoofed + Self.hopByHop

        let response = try harness.send("GET", "/echo/a/b?x=1&y=%20z", headers: headers)

        #expect(response.status == 200)
        let seen = try #require(harness.fake.seen.first)
        #expect(seen.target == "/base/echo/a/b?x=1&y=%20z")
        #expect(seen.values(normalisedName: "host") == ["127.0.0.1:\(harness.upstream.port)"])
        #expect(seen.values(normalisedName: "x-forwarded-for") == ["127.0.0.1"])
        #expect(seen.values(normalisedName: "x-forwarded-proto") == ["http"])
        #expect(seen.values(normalisedName: "x-forwarded-host") == ["test.local"])
        #expect(seen.values(normalisedName: "x-request-id") == [response.header("X-Request-ID") ?? "missing"])
        #expect(seen.values(normalisedName: "x-consumer-id") == ["user-7"])
        #expect(seen.values(normalisedName: "x-consumer-scopes") == ["echo:read"])
        #expect(seen.values(normalisedName: "x-custom") == ["kept"])
        let mustBeAbsent = [
            "x-real-ip", "forwarded", "x-forwarded-port", "x-consumer-custom", "x-service-key", "x-hop-secret",
            "keep-alive", "te", "trailer", "proxy-authorization", "proxy-connection", "authorization",
        ]
        for name in mustBeAbsent {
            #expect(seen.values(normalisedName: name).isEmpty, "\(name) reached the upstream")
        }
        for value in seen.headers.fields.map(\.value) {
            #expect(!value.contains("6.6.6.") && !value.contains("stolen") && !value.contains("evil"), "\(value)")
            #expect(!value.contains(token), "the credential the gateway consumed reached the upstream")
        }
    }

    @Test("behind a trusted proxy the upstream sees the believed chain then the peer")
    func trustedChain() throws {
        let trusted = try CIDRList(parsing: "127.0.0.1/32, 10.0.0.0/8")
        let harness = try GatewayHarness(GatewayHarness.Options(trustedProxies: trusted))
        defer { harness.shutdown() }
        let cases: [(sent: String, expected: String)] = [
            ("203.0.113.9", "203.0.113.9, 127.0.0.1"),
            ("203.0.113.9, 10.1.2.3", "203.0.113.9, 10.1.2.3, 127.0.0.1"),
            // Hops left of the first untrusted address are the client's own claims: not believed.
            ("1.1.1.1, 203.0.113.9, 10.1.2.3", "203.0.113.9, 10.1.2.3, 127.0.0.1"),
            // A malformed hop ends the walk.
            ("203.0.113.9, not-an-ip", "127.0.0.1"),
        ]
        for (sent, expected) in cases {
            _ = try harness.send("GET", "/public/x", headers: [("X-Forwarded-For", sent)])
            let seen = try #require(harness.fake.seen.last)
            #expect(seen.values(normalisedName: "x-forwarded-for") == [expected], "\(sent)")
        }
    }

    @Test("a valid client request id is kept end to end; an invalid one is replaced")
    func requestIDs() throws {
        let harness = try GatewayHarness()
        defer { harness.shutdown() }
        let kept = "client-Req_1.2"
        let invalid = ["has space", "semi;colon", String(repeating: "a", count: 65), "é-accent", "quote\"d"]

        let keptResponse = try harness.send("GET", "/public/x", headers: [("X-Request-ID", kept)])
        #expect(keptResponse.header("X-Request-ID") == kept)
        #expect(harness.fake.seen.last?.values(normalisedName: "x-request-id") == [kept])

        for id in invalid {
            let response = try harness.send("GET", "/public/x", headers: [("X-Request-ID", id)])
            let answered = try #require(response.header("X-Request-ID"), "\(id)")
            #expect(answered != id && answered.count == 32, "\(id)")
            #expect(harness.fake.seen.last?.values(normalisedName: "x-request-id") == [answered], "\(id)")
        }
    }

    @Test("hop-by-hop fields of the upstream's response, and the ones its Connection names, do not reach the client")
    func responseFields() throws {
        let raw = try RawUpstream(
            response: "HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Upstream-Hop\r\n"
                + "X-Upstream-Hop: secret-route-info\r\nKeep-Alive: timeout=1\r\nProxy-Authenticate: Basic\r\n"
                + "Upgrade: h2c\r\nX-Frame-Options: ALLOWALL\r\nX-Kept: yes\r\nContent-Length: 2\r\n\r\nok")
        defer { raw.stop() }
        let route = Route(
            prefix: "/raw", upstream: UpstreamURL(host: "127.0.0.1", port: raw.port), scopesByMethod: ["GET": []],
            isPublic: true)
        let harness = try GatewayHarness(GatewayHarness.Options(extraRoutes: [route]))
        defer { harness.shutdown() }

        let response = try harness.send("GET", "/raw/x")

        #expect(response.status == 200)
        #expect(response.text == "ok")
        #expect(response.header("X-Kept") == "yes")
        for name in ["X-Upstream-Hop", "Keep-Alive", "Proxy-Authenticate", "Upgrade", "Connection"] {
            #expect(response.header(name) == nil, "\(name) reached the client")
        }
        #expect(response.all("X-Frame-Options") == ["DENY"])
        #expect(response.all("Content-Length") == ["2"])
    }

    @Test("the body is forwarded intact both ways, every byte value included")
    func bodyIntact() throws {
        let harness = try GatewayHarness()
        defer { harness.shutdown() }
        var body: [UInt8] = (0..<65_536).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
        body.append(contentsOf: Array("\r\n\r\nGET / HTTP/1.1\r\n\r\n".utf8))
        let token = try harness.token(scopes: ["echo:write"])

        let response = try harness.send(
            "PUT", "/echo/blob", headers: [("Authorization", "Bearer " + token)], body: body)

        #expect(response.status == 200)
        #expect(harness.fake.seen.count == 1)
        #expect(harness.fake.seen.first?.body == body)
        #expect(response.body == body)
    }
}
