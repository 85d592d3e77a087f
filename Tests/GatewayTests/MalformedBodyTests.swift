import Foundation
import Testing

/// A request body that breaks its framing is answered, not only closed: while no byte of a response has gone
/// out, the client gets a JSON 4xx with the security headers, then the close.
@Suite("Malformed request bodies get a JSON error before the close")
struct MalformedBodyTests {
    /// Chunked bodies the attacker sent, each refused by the chunk parser after the head was accepted.
    static let brokenChunks: [(name: String, body: String, statuses: Set<Int>)] = [
        ("0x prefix", "0x5\r\nhello\r\n0\r\n\r\n", [400]),
        ("past 64 bits", "10000000000000005\r\nhello\r\n0\r\n\r\n", [400, 413]),
        ("plus sign", "+5\r\nhello\r\n0\r\n\r\n", [400]),
        ("trailing space", "5 \r\nhello\r\n0\r\n\r\n", [400]),
        ("underscore", "5_0\r\nhello\r\n0\r\n\r\n", [400]),
        ("negative", "-0\r\n\r\n", [400]),
        ("bare LF after data", "5\r\nhello\n0\r\n\r\n", [400]),
        ("missing CRLF", "5\r\nhelloXX0\r\n\r\n", [400]),
        ("NUL in an extension", "5;a=\u{0}\r\nhello\r\n0\r\n\r\n", [400]),
    ]

    static func harness() throws -> GatewayHarness {
        var options = GatewayHarness.Options()
        options.withCredentials = true
        options.withTokens = true
        return try GatewayHarness(options)
    }

    @Test("a broken chunked body on a proxied route and on the token endpoint is 400/413 JSON, then the close")
    func brokenChunks() throws {
        let harness = try Self.harness()
        defer { harness.shutdown() }
        for target in ["/public/a", "/auth/token"] {
            for (name, body, statuses) in Self.brokenChunks {
                let client = try harness.client()
                let answer = try client.requestRaw(
                    "POST \(target) HTTP/1.1\r\nHost: a\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                        + "Transfer-Encoding: chunked\r\n\r\n" + body)
                #expect(statuses.contains(answer.status), "\(target) \(name): \(answer.status)")
                #expect(answer.errorCode?.hasPrefix("E93") == true, "\(target) \(name): \(answer.text)")
                #expect(answer.header("Content-Type") == "application/json", "\(target) \(name)")
                #expect(answer.header("X-Content-Type-Options") == "nosniff", "\(target) \(name)")
                #expect(answer.header("Connection") == "close", "\(target) \(name)")
                #expect(client.isClosedByPeer(), "\(target) \(name): left open")
            }
        }
        // The fake upstream never got a whole request, so nothing half-sent was taken for one.
        #expect(harness.fake.seen.isEmpty)
    }

    @Test("a chunked body that runs past MAX_BODY_SIZE before any answer is 413")
    func chunkedPastLimit() throws {
        var options = GatewayHarness.Options()
        options.maxBodyBytes = 1_000
        let harness = try GatewayHarness(options)
        defer { harness.shutdown() }
        let client = try harness.client()
        let chunk = "7d0\r\n" + String(repeating: "x", count: 2_000) + "\r\n0\r\n\r\n"
        let answer = try client.requestRaw(
            "POST /public/a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk)
        #expect(answer.status == 413)
        #expect(answer.errorCode == "E9312")
        #expect(client.isClosedByPeer())
    }

    @Test("a client that half-closes in the middle of its body is told 400 before the close")
    func truncatedBody() throws {
        let harness = try Self.harness()
        defer { harness.shutdown() }
        let client = try harness.client()
        try client.send("POST /public/a HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nonly-part")
        client.shutdownWrite()
        let answer = try client.readResponse()
        #expect(answer.status == 400)
        #expect(answer.errorCode == "E9315")
        #expect(harness.fake.seen.isEmpty)

        // The data layer reads bodies whole before its handler runs: the same answer there.
        let direct = try TestHTTPClient(port: harness.dataLayer.port)
        try direct.send("POST /api/v1/events HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n{\"event")
        direct.shutdownWrite()
        let refused = try direct.readResponse()
        #expect(refused.status == 400)
        #expect(refused.errorCode == "E9315")
    }

    @Test("a chunked body that breaks its framing at the data layer is answered 400")
    func dataLayerBrokenChunks() throws {
        let harness = try Self.harness()
        defer { harness.shutdown() }
        for (name, body, statuses) in Self.brokenChunks {
            let client = try TestHTTPClient(port: harness.dataLayer.port)
            let answer = try client.requestRaw(
                "POST /api/v1/events HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + body)
            #expect(statuses.contains(answer.status), "\(name): \(answer.status)")
            #expect(client.isClosedByPeer(), "\(name)")
        }
    }
}
