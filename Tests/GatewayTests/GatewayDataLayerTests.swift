import Foundation
import Testing

/// End to end: client → gateway → the real data layer over SQLite, and the data layer's own guard.
@Suite("Gateway to data layer")
struct GatewayDataLayerTests {
    static let event =
        #"{"event_type":"story.created","aggregate_type":"story","aggregate_id":"story-1","#
        + #""payload":{"title":"A \"quoted\" tale","n":3,"tags":["a","b"]},"metadata":{"source":"test"}}"#

    static func bearer(_ token: String) -> [(String, String)] {
        [("Authorization", "Bearer " + token), ("Content-Type", "application/json")]
    }

    @Test("an event posted through the gateway comes back through it with the same fields")
    func roundTrip() throws {
        let harness = try GatewayHarness()
        defer { harness.shutdown() }
        let token = try harness.token(scopes: ["events:read", "events:write"])

        let created = try harness.send(
            "POST", "/api/v1/events", headers: Self.bearer(token), body: Array(Self.event.utf8))
        #expect(created.status == 201)
        let stored = try #require(created.json)
        let id = try #require(stored["id"] as? String)
        #expect(created.header("Location") == "/api/v1/events/" + id)

        let fetched = try harness.send("GET", "/api/v1/events/" + id, headers: Self.bearer(token))
        #expect(fetched.status == 200)
        let back = try #require(fetched.json)
        let sent = try #require(try JSONSerialization.jsonObject(with: Data(Self.event.utf8)) as? [String: Any])
        for field in ["event_type", "aggregate_type", "aggregate_id"] {
            #expect(back[field] as? String == sent[field] as? String, "\(field)")
        }
        for field in ["payload", "metadata"] {
            #expect(Self.sameObject(back[field], sent[field]), "\(field)")
        }
        #expect(back["id"] as? String == id)
        #expect(Self.sameObject(back, stored))
    }

    /// Whether both are JSON objects with equal members.
    static func sameObject(_ a: Any?, _ b: Any?) -> Bool {
        guard let a = a as? [String: Any], let b = b as? [String: Any] else { return false }
        return NSDictionary(dictionary: a).isEqual(to: b)
    }

    @Test("a client's own X-Service-Key is dropped and the gateway's key used, so the append still succeeds")
    func clientServiceKeyIsReplaced() throws {
        let harness = try GatewayHarness()
        defer { harness.shutdown() }
        let token = try harness.token(scopes: ["events:write"])

        let response = try harness.send(
            "POST", "/api/v1/events", headers: Self.bearer(token) + [("X-Service-Key", "guessed-key")],
            body: Array(Self.event.utf8))

        #expect(response.status == 201)
    }

    @Test("data-layer validation errors pass through the gateway as 400 naming the field")
    func validationPassesThrough() throws {
        let harness = try GatewayHarness()
        defer { harness.shutdown() }
        let token = try harness.token(scopes: ["events:read", "events:write"])
        let base = #""aggregate_type":"story","aggregate_id":"s1""#
        let cases: [(body: String, code: String, field: String?)] = [
            (#"{"aggregate_type":"story","aggregate_id":"s1","payload":{}}"#, "E9302", "event_type"),
            (#"{"event_type":"story.created","aggregate_type":"story","payload":{}}"#, "E9302", "aggregate_id"),
            (#"{"event_type":"story.created",\#(base),"payload":"x"}"#, "E9303", "payload"),
            (#"{"event_type":"Story Created",\#(base),"payload":{}}"#, "E9304", "event_type"),
            (#"{"event_type":"a",\#(base),"payload":{},"admin":true}"#, "E9307", "admin"),
            (#"{"event_type":"a","event_type":"b"}"#, "E9301", nil),
            ("[1,2", "E9301", nil),
        ]
        for (body, code, field) in cases {
            let response = try harness.send(
                "POST", "/api/v1/events", headers: Self.bearer(token), body: Array(body.utf8))
            #expect(response.status == 400, "\(body)")
            let error = response.json?["error"] as? [String: Any]
            #expect(error?["code"] as? String == code, "\(body)")
            #expect(error?["field"] as? String == field, "\(body)")
            #expect(response.header("X-Content-Type-Options") == "nosniff", "\(body)")
            // One id follows the request from the gateway into the data layer's error.
            #expect(error?["request_id"] as? String == response.header("X-Request-ID"), "\(body)")
        }
        let badID = try harness.send("GET", "/api/v1/events/not-a-uuid", headers: Self.bearer(token))
        #expect(badID.status == 400)
        #expect((badID.json?["error"] as? [String: Any])?["field"] as? String == "id")
    }

    @Test("the data layer, called directly, refuses a caller without the right service key")
    func directCallNeedsServiceKey() throws {
        let harness = try GatewayHarness()
        defer { harness.shutdown() }
        let cases: [(label: String, headers: [(String, String)], status: Int)] = [
            ("no key", [], 401),
            ("wrong key", [("X-Service-Key", "svc-wrong")], 401),
            ("key with a suffix", [("X-Service-Key", harness.serviceKey + "x")], 401),
            ("key twice", [("X-Service-Key", harness.serviceKey), ("X-Service-Key", harness.serviceKey)], 401),
            ("a gateway token is not a key", [("Authorization", "Bearer " + (try harness.token(scopes: ["x"])))], 401),
            ("the right key", [("X-Service-Key", harness.serviceKey)], 201),
        ]
        for (label, headers, status) in cases {
            let response = try TestHTTPClient(port: harness.dataLayer.port).request(
                "POST", "/api/v1/events", headers: headers + [("Content-Type", "application/json")],
                body: Self.event)
            #expect(response.status == status, "\(label)")
            if status == 401 { #expect(response.errorCode == "E9101", "\(label)") }
        }
    }
}
