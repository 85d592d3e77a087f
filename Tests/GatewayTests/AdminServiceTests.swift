import Foundation
import Testing

/// The admin listener: Prometheus text that promtool accepts, bounded labels, and health endpoints.
@Suite("Admin service")
struct AdminServiceTests {
    static let promtool = "/usr/bin/promtool"

    /// Runs `promtool check metrics` on `text`; returns its exit status and output.
    static func promtoolCheck(_ text: String) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: promtool)
        process.arguments = ["check", "metrics"]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        input.fileHandleForWriting.write(Data(text.utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test("/metrics passes promtool and labels requests by route prefix, never by raw path")
    func metricsExposition() throws {
        let harness = try GatewayHarness()
        defer { harness.shutdown() }
        let token = try harness.token(scopes: ["events:read"])
        let random = UUID().uuidString.lowercased()
        let secretPath = "zq" + random.replacingOccurrences(of: "-", with: "")

        _ = try harness.send("GET", "/api/v1/events/" + random, headers: [("Authorization", "Bearer " + token)])
        _ = try harness.send("GET", "/api/v1/events/" + secretPath)
        _ = try harness.send("GET", "/" + secretPath)
        _ = try harness.send("GET", "/echo/x", headers: [("Authorization", "Bearer bad.token.here")])
        _ = try harness.send("POST", "/echo/x", headers: [("Authorization", "Bearer " + token)])
        let text = try harness.exposition()

        #expect(FileManager.default.isExecutableFile(atPath: Self.promtool), "promtool is missing")
        let check = try Self.promtoolCheck(text)
        #expect(check.status == 0, "promtool: \(check.output)")
        #expect(!text.contains(random) && !text.contains(secretPath))
        #expect(text.contains(#"http_requests_total{method="GET",route="/api/v1/events",status="404"} 1"#))
        #expect(text.contains(#"http_requests_total{method="GET",route="/api/v1/events",status="401"} 1"#))
        #expect(text.contains(#"http_requests_total{method="GET",route="unmatched",status="404"} 1"#))
        #expect(text.contains(#"http_request_duration_seconds_bucket{le="+Inf"} 5"#))
        #expect(text.contains("http_request_duration_seconds_count 5"))
        #expect(text.contains("# TYPE http_request_duration_seconds histogram"))
        #expect(try harness.metric("auth_failures_total") == 1)
        #expect(try harness.metric("unauthorized_access_total") == 2)
        #expect(text.contains("# TYPE rate_limited_total counter"))
        #expect(text.contains("rate_limited_total 0"))
    }

    @Test("liveness and readiness answer 200; other paths and methods are refused")
    func health() throws {
        let harness = try GatewayHarness()
        defer { harness.shutdown() }
        let admin = harness.admin.port

        let live = try TestHTTPClient(port: admin).request("GET", "/health/live")
        let ready = try TestHTTPClient(port: admin).request("GET", "/health/ready")
        let unknown = try TestHTTPClient(port: admin).request("GET", "/admin")
        let post = try TestHTTPClient(port: admin).request("POST", "/metrics", body: "x")

        #expect(live.status == 200)
        #expect(ready.status == 200)
        #expect(ready.json?["status"] as? String == "ready")
        #expect(unknown.status == 404)
        #expect(post.status == 405)
        #expect(post.header("Allow") == "GET, HEAD")
        for response in [live, ready, unknown, post] {
            #expect(response.header("X-Content-Type-Options") == "nosniff")
        }
    }
}
