import Audit
import Foundation
import Limits
import Testing

/// The audit trail after real requests: one JSON object a line, every decision kind, no secret in any form.
@Suite("Gateway audit trail")
struct GatewayAuditTests {
    @Test("auth failures, denials, rate limits and successes are recorded as JSON lines without any secret")
    func decisionsWithoutSecrets() throws {
        let harness = try GatewayHarness(
            GatewayHarness.Options(rateLimit: RateLimitPolicy(requestsPerMinute: 60, burst: 5)))
        defer { harness.shutdown() }
        let good = try harness.token(scopes: ["echo:read"])
        let foreign = try harness.token(scopes: ["echo:read"], secret: GatewayHarness.otherSecret)
        let tokens = [good, foreign]

        // One request per decision kind, then more until the limit refuses one.
        var requestIDs: [String: String] = [:]
        func send(_ label: String, _ method: String, _ token: String?) throws -> Int {
            let headers = token.map { [("Authorization", "Bearer " + $0)] } ?? []
            let response = try harness.send(method, "/echo/item", headers: headers)
            requestIDs[label] = response.header("X-Request-ID")
            return response.status
        }
        #expect(try send("missing", "GET", nil) == 401)
        #expect(try send("foreign", "GET", foreign) == 401)
        #expect(try send("denied", "POST", good) == 403)
        #expect(try send("success", "GET", good) == 200)
        var limited = 0
        for _ in 0..<10 where limited == 0 {
            if try send("limited", "GET", good) == 429 { limited += 1 }
        }
        #expect(limited == 1)
        #expect(harness.audit.flush())

        let text = try String(contentsOfFile: harness.auditPath, encoding: .utf8)
        let lines = text.split(separator: "\n")
        var records: [[String: Any]] = []
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            records.append(try #require(object, "not a JSON object: \(line)"))
        }
        #expect(text.hasSuffix("\n"))
        for record in records {
            for key in ["type", "outcome", "request_id", "client_address", "route", "reason", "token_fingerprint"] {
                #expect(record.keys.contains(key), "\(key) missing in \(record)")
            }
            #expect(record["client_address"] as? String == "127.0.0.1")
            // The limit runs before routing, so only its records have no route.
            let expectedRoute: String? = record["type"] as? String == "ratelimit.exceeded" ? nil : "/echo"
            #expect(record["route"] as? String == expectedRoute)
        }
        func record(_ label: String, _ type: String) -> [String: Any]? {
            records.first { $0["type"] as? String == type && $0["request_id"] as? String == requestIDs[label] }
        }
        let missing = record("missing", "auth.failure")
        let rejected = record("foreign", "auth.failure")
        let denied = record("denied", "authz.denied")
        let success = record("success", "auth.success")
        let limitedRecord = record("limited", "ratelimit.exceeded")
        #expect(missing?["reason"] as? String == "missing_credentials")
        #expect(missing?["token_fingerprint"] is NSNull)
        #expect(rejected?["outcome"] as? String == "failure")
        #expect(rejected?["token_fingerprint"] as? String == AuditRecord.fingerprint(of: foreign))
        #expect((rejected?["reason"] as? String)?.isEmpty == false)
        #expect(denied?["outcome"] as? String == "denied")
        #expect(denied?["reason"] as? String == "missing_scope:echo:write")
        #expect(denied?["token_fingerprint"] as? String == AuditRecord.fingerprint(of: good))
        #expect(success?["outcome"] as? String == "success")
        #expect(success?["subject"] as? String == "user-42")
        #expect(success?["token_fingerprint"] as? String == AuditRecord.fingerprint(of: good))
        #expect(limitedRecord?["outcome"] as? String == "denied")

        // No secret, and no 9-byte window of a token's signature, anywhere in the file.
        let secrets =
            tokens + [
                String(decoding: GatewayHarness.secret, as: UTF8.self),
                String(decoding: GatewayHarness.otherSecret, as: UTF8.self), harness.serviceKey,
            ]
        for secret in secrets { #expect(!text.contains(secret)) }
        for token in tokens {
            let segments = token.split(separator: ".").map(String.init)
            #expect(segments.count == 3)
            for segment in segments where segment.count > 8 {
                let bytes = Array(segment.utf8)
                for start in 0...(bytes.count - 9) {
                    let window = String(decoding: bytes[start..<(start + 9)], as: UTF8.self)
                    #expect(!text.contains(window), "a 9-byte piece of a token segment is in the audit log")
                }
            }
        }
    }
}
