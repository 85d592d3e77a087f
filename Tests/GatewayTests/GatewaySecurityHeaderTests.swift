import Limits
import Testing

/// Every answer carries the security headers, whoever produced it: the gateway, the upstream or the server.
@Suite("Gateway security headers")
struct GatewaySecurityHeaderTests {
    static func expectSecurityHeaders(_ response: TestHTTPClient.Response, _ label: String) {
        #expect(response.all("X-Content-Type-Options") == ["nosniff"], "\(label)")
        #expect(response.all("X-Frame-Options") == ["DENY"], "\(label)")
        #expect(response.all("Referrer-Policy") == ["no-referrer"], "\(label)")
    }

    @Test("errors, 404, 405, 429, 502 and proxied answers all carry nosniff, DENY and no-referrer")
    func everyResponse() throws {
        let harness = try GatewayHarness(
            GatewayHarness.Options(rateLimit: RateLimitPolicy(requestsPerMinute: 60, burst: 5)))
        defer { harness.shutdown() }
        harness.fake.setReply(
            UpstreamReply(
                status: 200, headers: [("Referrer-Policy", "unsafe-url"), ("X-Content-Type-Options", "sniff")],
                body: Array("ok".utf8)))
        let token = try harness.token(scopes: ["echo:read"])

        let answers: [(String, TestHTTPClient.Response)] = [
            ("401", try harness.send("GET", "/echo/x")),
            ("403", try harness.send("POST", "/echo/x", headers: [("Authorization", "Bearer " + token)])),
            ("404", try harness.send("GET", "/nowhere")),
            ("405", try harness.send("DELETE", "/echo/x")),
            ("502", try harness.send("GET", "/refused")),
            ("proxied", try harness.send("GET", "/echo/x", headers: [("Authorization", "Bearer " + token)])),
            ("429", try harness.send("GET", "/echo/x")),
        ]

        #expect(answers.map(\.1.status) == [401, 403, 404, 405, 502, 200, 429])
        for (label, response) in answers {
            Self.expectSecurityHeaders(response, label)
            if response.status >= 400 { #expect(response.header("Cache-Control") == "no-store", "\(label)") }
        }
    }

    @Test("a framing error the server answers itself (bare LF, bad version, huge head) carries them too")
    func serverFramingErrors() throws {
        let harness = try GatewayHarness()
        defer { harness.shutdown() }
        let hostile = [
            "GET /public/x HTTP/1.1\nHost: a\n\n",
            "GET /public/x HTTP/9.9\r\nHost: a\r\n\r\n",
            "GET /public/x HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
            "GET /public/x HTTP/1.1\r\nHost: a\r\nX-Big: " + String(repeating: "b", count: 70_000) + "\r\n\r\n",
        ]
        for raw in hostile {
            let client = try harness.client()
            try? client.send(raw)
            let response = try client.readResponse()
            let label = String(raw.prefix(40))
            #expect((400..<600).contains(response.status), "\(label)")
            Self.expectSecurityHeaders(response, label)
            #expect(response.header("Cache-Control") == "no-store", "\(label)")
        }
        #expect(harness.fake.seen.isEmpty)
    }
}
