import Dispatch
import Testing

/// An upstream that refuses or stalls becomes a JSON 502 or 504, counted, never a hang or a crash.
@Suite("Gateway upstream failures")
struct GatewayUpstreamFailureTests {
    @Test("a refused upstream connection gets 502 E9801 and moves upstream_errors_total")
    func refused() throws {
        let harness = try GatewayHarness()
        defer { harness.shutdown() }
        let before = try harness.metric("upstream_errors_total")

        let response = try harness.send("GET", "/refused/x")

        #expect(response.status == 502)
        #expect(response.errorCode == "E9801")
        #expect(response.header("Content-Type") == "application/json")
        #expect(response.header("Cache-Control") == "no-store")
        #expect(try harness.metric("upstream_errors_total") == before + 1)
    }

    @Test("an upstream slower than the timeout gets 504 E9802 at about the timeout")
    func tooSlow() throws {
        let harness = try GatewayHarness(GatewayHarness.Options(upstreamTimeoutMilliseconds: 300))
        defer { harness.shutdown() }
        harness.fake.setReply(UpstreamReply(status: 200, body: Array("late".utf8), delayMilliseconds: 1_500))
        let before = try harness.metric("upstream_errors_total")

        let started = DispatchTime.now().uptimeNanoseconds
        let response = try harness.send("GET", "/public/slow")
        let elapsedMilliseconds = (DispatchTime.now().uptimeNanoseconds - started) / 1_000_000

        #expect(response.status == 504)
        #expect(response.errorCode == "E9802")
        #expect(response.text.contains("late") == false)
        #expect(elapsedMilliseconds >= 250 && elapsedMilliseconds < 1_400)
        #expect(try harness.metric("upstream_errors_total") == before + 1)
    }

    @Test("after a timeout the same client connection still works for the next request")
    func connectionSurvivesTimeout() throws {
        let harness = try GatewayHarness(GatewayHarness.Options(upstreamTimeoutMilliseconds: 300))
        defer { harness.shutdown() }
        let client = try harness.client()
        harness.fake.setReply(UpstreamReply(status: 200, body: Array("late".utf8), delayMilliseconds: 1_000))
        let slow = try client.request("GET", "/public/slow")
        harness.fake.setReply(UpstreamReply(status: 200, body: Array("fast".utf8)))

        let fast = try client.request("GET", "/public/fast")

        #expect(slow.status == 504)
        #expect(fast.status == 200)
        #expect(fast.text == "fast")
    }
}
