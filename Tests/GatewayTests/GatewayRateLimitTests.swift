import Config
import Limits
import Testing

/// The per-client limit runs first: before routing and authentication, keyed by the believed client address.
@Suite("Gateway rate limit")
struct GatewayRateLimitTests {
    /// 60 a minute with a burst of 2: three requests at one instant pass, the fourth is refused.
    static let small = RateLimitPolicy(requestsPerMinute: 60, burst: 2)

    @Test("the (burst+2)th request gets 429 with Retry-After and RateLimit fields, even without a token")
    func limitBeforeAuthentication() throws {
        let harness = try GatewayHarness(GatewayHarness.Options(rateLimit: Self.small))
        defer { harness.shutdown() }
        let before = try harness.metric("rate_limited_total")

        var statuses: [Int] = []
        var remaining: [String?] = []
        for _ in 0..<(Self.small.burst + 1) {
            let response = try harness.send("GET", "/echo/x")
            statuses.append(response.status)
            remaining.append(response.header("RateLimit-Remaining"))
        }
        let refused = try harness.send("GET", "/echo/x")

        #expect(statuses == [401, 401, 401])
        #expect(remaining == ["2", "1", "0"])
        #expect(refused.status == 429)
        #expect(refused.errorCode == "E9401")
        let retryAfter = try #require(refused.header("Retry-After"))
        #expect(retryAfter.allSatisfy { $0.isASCII && $0.isNumber })
        #expect((Int(retryAfter) ?? 0) >= 1)
        #expect(refused.header("RateLimit-Limit") == "3")
        #expect(refused.header("RateLimit-Remaining") == "0")
        #expect((Int(refused.header("RateLimit-Reset") ?? "") ?? 0) >= 1)
        #expect(refused.header("WWW-Authenticate") == nil)
        #expect(try harness.metric("rate_limited_total") == before + 1)
    }

    @Test("a refused client stays refused on a public route and for unknown paths: the limit precedes routing")
    func limitBeforeRouting() throws {
        let harness = try GatewayHarness(GatewayHarness.Options(rateLimit: Self.small))
        defer { harness.shutdown() }
        for _ in 0..<Self.small.capacity { _ = try harness.send("GET", "/public/x") }

        #expect(try harness.send("GET", "/public/x").status == 429)
        #expect(try harness.send("GET", "/no/such/route").status == 429)
        #expect(harness.fake.seen.count == Self.small.capacity)
    }

    @Test("behind a trusted proxy each forwarded client has its own allowance")
    func clientsBehindTrustedProxy() throws {
        let trusted = try CIDRList(parsing: "127.0.0.1/32")
        let harness = try GatewayHarness(GatewayHarness.Options(rateLimit: Self.small, trustedProxies: trusted))
        defer { harness.shutdown() }
        let first = [("X-Forwarded-For", "203.0.113.10")]
        let second = [("X-Forwarded-For", "203.0.113.20")]

        for _ in 0..<Self.small.capacity { _ = try harness.send("GET", "/public/x", headers: first) }
        let firstRefused = try harness.send("GET", "/public/x", headers: first)
        let secondAllowed = try harness.send("GET", "/public/x", headers: second)
        let proxyItself = try harness.send("GET", "/public/x")

        #expect(firstRefused.status == 429)
        #expect(secondAllowed.status == 200)
        #expect(secondAllowed.header("RateLimit-Remaining") == "2")
        #expect(proxyItself.status == 200)
    }

    @Test(
        "respelling a forwarded address, or moving within one IPv6 /64, does not buy a fresh allowance",
        arguments: [
            ("2001:db8::1", ["2001:DB8::1", "2001:0db8:0000::1", "2001:db8::2", "2001:db8::ffff:1"]),
            ("10.0.0.1", ["::ffff:10.0.0.1", "::FFFF:10.0.0.1"]),
        ])
    func respelledAddressesShareOneLimit(first: String, respellings: [String]) throws {
        let trusted = try CIDRList(parsing: "127.0.0.1/32")
        let harness = try GatewayHarness(GatewayHarness.Options(rateLimit: Self.small, trustedProxies: trusted))
        defer { harness.shutdown() }
        for _ in 0..<Self.small.capacity {
            #expect(try harness.send("GET", "/public/x", headers: [("X-Forwarded-For", first)]).status == 200)
        }
        for spelling in respellings {
            let response = try harness.send("GET", "/public/x", headers: [("X-Forwarded-For", spelling)])
            #expect(response.status == 429, "\(spelling) escaped the limit of \(first)")
        }
        // Another /64 (or another IPv4 address) is another client.
        let neighbour = first.contains(":") ? "2001:db8:0:1::1" : "10.0.0.2"
        #expect(try harness.send("GET", "/public/x", headers: [("X-Forwarded-For", neighbour)]).status == 200)
    }

    @Test("without a trusted proxy a client cannot escape its limit by sending X-Forwarded-For")
    func untrustedForwardedForIsIgnored() throws {
        let harness = try GatewayHarness(GatewayHarness.Options(rateLimit: Self.small))
        defer { harness.shutdown() }
        for i in 0..<Self.small.capacity {
            _ = try harness.send("GET", "/public/x", headers: [("X-Forwarded-For", "198.51.100.\(i)")])
        }

        let response = try harness.send("GET", "/public/x", headers: [("X-Forwarded-For", "198.51.100.99")])

        #expect(response.status == 429)
    }
}
