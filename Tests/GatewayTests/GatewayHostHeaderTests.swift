import Testing

/// The `Host` field is checked against its grammar before anything else runs, so only a host and port ever reach
/// an upstream as `X-Forwarded-Host`.
@Suite("Gateway Host header validation")
struct GatewayHostHeaderTests {
    /// Values the attacker sent, and others of the same kind: userinfo, path, query, fragment, escapes,
    /// sub-delims, markup, ports out of range, broken IPv6 literals.
    static let invalid = [
        #"'"><svg>"#, "u@evil.test", #"good.test\@evil.test"#, "evil.test/x?", "a/b?c#d", "evil.test:443@x",
        "x:y:z", "%65vil.test", "evil.test:", "evil.test:65536", "evil.test:99999", "evil.test:-1", "a..b", ".a",
        "a;b", "a(b)", "a!b", "a*b", "a=b", "a&b", "a+b", "a$b", "a'b", "a~b", "[::1", "[::1]x", "[::1]:", "[zz::1]",
        "[1:2:3:4:5:6:7:8:9]", "[::1%25eth0]", "::1", "1.2.3.4:80:80", "\u{E9}vil.test", "a.test :80",
    ]

    static let valid = [
        "a", "gw.test", "gw.test:8009", "gw.test:0", "gw.test:65535", "10.0.0.5", "10.0.0.5:80", "[::1]",
        "[2001:db8::1]:8443", "[::ffff:10.0.0.1]", "my_service.internal", "Example.COM.", "xn--bcher-kva.test",
    ]

    @Test("an invalid Host is 400 E9305 and reaches no upstream")
    func invalidRefused() throws {
        let harness = try GatewayHarness()
        defer { harness.shutdown() }
        for host in Self.invalid {
            let client = try harness.client()
            let answer = try client.requestRaw("GET /public/a HTTP/1.1\r\nHost: \(host)\r\n\r\n")
            #expect(answer.status == 400, "\(host): \(answer.status)")
            #expect(answer.errorCode == "E9305", "\(host)")
            #expect(answer.header("X-Content-Type-Options") == "nosniff", "\(host)")
        }
        #expect(harness.fake.seen.isEmpty, "\(harness.fake.seen.map { $0.values(normalisedName: "x-forwarded-host") })")
    }

    @Test("a valid Host is forwarded unchanged as X-Forwarded-Host")
    func validForwarded() throws {
        let harness = try GatewayHarness()
        defer { harness.shutdown() }
        for host in Self.valid {
            let answer = try harness.client().requestRaw("GET /public/a HTTP/1.1\r\nHost: \(host)\r\n\r\n")
            #expect(answer.status == 200, "\(host): \(answer.status)")
            #expect(harness.fake.seen.last?.values(normalisedName: "x-forwarded-host") == [host], "\(host)")
        }
        #expect(harness.fake.seen.count == Self.valid.count)
    }
}
