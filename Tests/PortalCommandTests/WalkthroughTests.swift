import Foundation
import Testing

/// The README's curl walk-through, step by step, against the real binary.
@Suite("README walk-through against portal serve")
struct WalkthroughTests {
    @Test("401 without a token, 201 and 200 with one, 403 without the scope, 429 past the burst, counters, audit")
    func walkthrough() throws {
        let dir = try PortalProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let env = PortalProcess.baseEnvironment(dataDirectory: dir)
        let portal = try RunningPortal(
            environment: env, directory: dir, expectedListeners: ["gateway", "admin", "data layer"])
        let gateway = "http://127.0.0.1:\(try #require(portal.ports["gateway"]))"
        let admin = "http://127.0.0.1:\(try #require(portal.ports["admin"]))"

        // No token: 401, JSON, WWW-Authenticate, security headers.
        let anonymous = try Curl.request(["\(gateway)/api/v1/events"])
        #expect(anonymous.status == 401)
        #expect(anonymous.header("WWW-Authenticate") == #"Bearer error="invalid_token""#)
        #expect(anonymous.header("X-Content-Type-Options") == "nosniff")
        #expect((anonymous.json?["error"] as? [String: Any])?["code"] as? String == "E9101")

        // A token from the CLI, signed with the secret `serve` uses.
        let issued = try PortalProcess.run(
            ["token", "issue", "--sub", "alice", "--scope", "events:read events:write"], environment: env, in: dir)
        #expect(issued.status == 0)
        let token = issued.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(token.split(separator: ".").count == 3)

        // POST through the gateway, then GET it back.
        let body =
            #"{"event_type":"story.created","aggregate_type":"story","aggregate_id":"s-1","payload":{"title":"Hi"}}"#
        let created = try Curl.request([
            "-X", "POST", "\(gateway)/api/v1/events", "-H", "Authorization: Bearer \(token)",
            "-H", "Content-Type: application/json", "-d", body,
        ])
        #expect(created.status == 201, "\(created.body)")
        let id = try #require(created.json?["id"] as? String)
        #expect(created.json?["version"] as? Int == 1)
        let fetched = try Curl.request(["-H", "Authorization: Bearer \(token)", "\(gateway)/api/v1/events/\(id)"])
        #expect(fetched.status == 200)
        #expect(fetched.json?["aggregate_id"] as? String == "s-1")
        #expect((fetched.json?["payload"] as? [String: Any])?["title"] as? String == "Hi")

        // A reader may not write.
        let reader = try PortalProcess.run(
            ["token", "issue", "--sub", "bob", "--scope", "events:read"], environment: env, in: dir
        ).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let denied = try Curl.request([
            "-X", "POST", "\(gateway)/api/v1/events", "-H", "Authorization: Bearer \(reader)",
            "-H", "Content-Type: application/json", "-d", "{}",
        ])
        #expect(denied.status == 403)

        // A forged token: 401 E9102.
        let forged = try Curl.request(["-H", "Authorization: Bearer \(token).forged", "\(gateway)/api/v1/events"])
        #expect(forged.status == 401)
        #expect((forged.json?["error"] as? [String: Any])?["code"] as? String == "E9102")

        // Quick requests until the limit trips: 429 with whole-second Retry-After and RateLimit headers.
        var limited: Curl.Response?
        for _ in 0..<40 {
            let response = try Curl.request(["\(gateway)/api/v1/events"])
            if response.status == 429 {
                limited = response
                break
            }
            #expect(response.status == 401)
        }
        let tripped = try #require(limited)
        #expect(Int(tripped.header("Retry-After") ?? "") ?? 0 >= 1)
        #expect(tripped.header("RateLimit-Limit") == "21")
        #expect(tripped.header("RateLimit-Remaining") == "0")

        // The counters moved.
        let metrics = try Curl.request(["\(admin)/metrics"])
        #expect(metrics.status == 200)
        for series in ["auth_failures_total", "unauthorized_access_total", "rate_limited_total"] {
            let line = metrics.body.split(separator: "\n").first { $0.hasPrefix(series + " ") }
            let value = Double(line?.split(separator: " ").last ?? "") ?? 0
            #expect(value >= 1, "\(series)")
        }

        // SIGTERM: a clean exit that flushes the audit trail, which holds the decisions without the token.
        #expect(portal.terminate() == 0)
        let audit = try String(contentsOf: dir.appendingPathComponent("audit.log"), encoding: .utf8)
        for type in ["auth.failure", "auth.success", "authz.denied", "ratelimit.exceeded"] {
            #expect(audit.contains(#""type":"\#(type)""#), "\(type)")
        }
        let signature = String(token.split(separator: ".")[2])
        #expect(!audit.contains(signature))
        #expect(!audit.contains(token))
    }
}
