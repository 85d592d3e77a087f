import DataLayer
import Foundation
import HTTPCodec
import Testing

@Suite("DataLayerRouter: events")
struct DataLayerRouterTests {
    @Test("POST creates an event (201) that GET by id returns unchanged")
    func createAndFetch() throws {
        let harness = try RouterHarness()
        let body = """
            {"event_type":"story.created","aggregate_type":"story","aggregate_id":"story-42",
             "payload":{"title":"Tale","n":1.50,"tags":["a"],"ok":true},"metadata":{"source":"test"}}
            """
        let created = harness.post(body)
        #expect(created.status == 201)
        #expect(created.headers.first("Content-Type") == "application/json")
        let object = try created.jsonObject()
        let id = try #require(object["id"] as? String)
        #expect(created.headers.first("Location") == "/api/v1/events/" + id)
        #expect(object["event_type"] as? String == "story.created")
        #expect(object["aggregate_type"] as? String == "story")
        #expect(object["aggregate_id"] as? String == "story-42")
        #expect(object["created_at"] as? String == "2026-01-01T00:00:00.000000Z")
        #expect((object["version"] as? NSNumber)?.intValue == 1)
        #expect((object["metadata"] as? [String: Any])?["source"] as? String == "test")
        // Numbers keep their literal text and booleans stay booleans.
        #expect(String(decoding: created.body, as: UTF8.self).contains("\"n\":1.50"))
        #expect(String(decoding: created.body, as: UTF8.self).contains("\"ok\":true"))
        let fetched = harness.send("GET", "/api/v1/events/" + id)
        #expect(fetched.status == 200)
        #expect(fetched.body == created.body)
        let upper = harness.send("GET", "/api/v1/events/" + id.uppercased())
        #expect(upper.body == created.body)
    }

    @Test("metadata is optional and defaults to an empty object; versions count per aggregate")
    func metadataDefaultAndVersions() throws {
        let harness = try RouterHarness()
        let first = try harness.append(aggregate: "a")
        #expect((first["metadata"] as? [String: Any])?.isEmpty == true)
        _ = try harness.append(aggregate: "b")
        let second = try harness.append(aggregate: "a")
        #expect((second["version"] as? NSNumber)?.intValue == 2)
    }

    static let valid = (
        type: "\"event_type\":\"story.created\"", aggregateType: "\"aggregate_type\":\"story\"",
        aggregateID: "\"aggregate_id\":\"s-1\"", payload: "\"payload\":{}"
    )

    static func body(without skip: String = "", extra: String = "", replacing: [String: String] = [:]) -> String {
        var parts: [(String, String)] = [
            ("event_type", valid.type), ("aggregate_type", valid.aggregateType),
            ("aggregate_id", valid.aggregateID), ("payload", valid.payload),
        ]
        parts.removeAll { $0.0 == skip }
        parts = parts.map { name, text in (name, replacing[name].map { "\"\(name)\":\($0)" } ?? text) }
        return "{" + (parts.map(\.1) + (extra.isEmpty ? [] : [extra])).joined(separator: ",") + "}"
    }

    @Test(
        "every validation rule answers 400 with its code and the field it names",
        arguments: [
            ("", "E9301", nil),
            ("[]", "E9301", nil),
            ("\"text\"", "E9301", nil),
            ("null", "E9301", nil),
            ("{\"event_type\":", "E9301", nil),
            (body() + "garbage", "E9301", nil),
            (body(extra: "\"payload\":{}"), "E9301", nil),
            (body(replacing: ["payload": "{\"\u{E9}\":1,\"e\u{301}\":2}"]), "E9301", nil),
            (body(replacing: ["payload": "{\"s\":\"\\ud800\"}"]), "E9301", nil),
            (body(without: "event_type"), "E9302", "event_type"),
            (body(without: "aggregate_type"), "E9302", "aggregate_type"),
            (body(without: "aggregate_id"), "E9302", "aggregate_id"),
            (body(without: "payload"), "E9302", "payload"),
            (body(replacing: ["event_type": "42"]), "E9303", "event_type"),
            (body(replacing: ["event_type": "true"]), "E9303", "event_type"),
            (body(replacing: ["event_type": "null"]), "E9303", "event_type"),
            (body(replacing: ["aggregate_type": "[\"story\"]"]), "E9303", "aggregate_type"),
            (body(replacing: ["aggregate_id": "1"]), "E9303", "aggregate_id"),
            (body(replacing: ["payload": "[]"]), "E9303", "payload"),
            (body(replacing: ["payload": "\"{}\""]), "E9303", "payload"),
            (body(replacing: ["payload": "null"]), "E9303", "payload"),
            (body(replacing: ["payload": "1"]), "E9303", "payload"),
            (body(extra: "\"metadata\":[]"), "E9303", "metadata"),
            (body(extra: "\"metadata\":null"), "E9303", "metadata"),
            (body(replacing: ["event_type": "\"\""]), "E9304", "event_type"),
            (body(replacing: ["event_type": "\"Story.Created\""]), "E9304", "event_type"),
            (body(replacing: ["event_type": "\"1story\""]), "E9304", "event_type"),
            (body(replacing: ["event_type": "\"story created\""]), "E9304", "event_type"),
            (body(replacing: ["event_type": "\"story\\u0000\""]), "E9304", "event_type"),
            (body(replacing: ["event_type": "\"a\(String(repeating: "b", count: 128))\""]), "E9304", "event_type"),
            (body(replacing: ["aggregate_type": "\"st/ory\""]), "E9304", "aggregate_type"),
            (body(replacing: ["aggregate_id": "\"\""]), "E9304", "aggregate_id"),
            (body(replacing: ["aggregate_id": "\"a b\""]), "E9304", "aggregate_id"),
            (body(replacing: ["aggregate_id": "\"../etc\""]), "E9304", "aggregate_id"),
            (body(replacing: ["aggregate_id": "\"'; DROP TABLE events;--\""]), "E9304", "aggregate_id"),
            (body(replacing: ["aggregate_id": "\"\(String(repeating: "x", count: 129))\""]), "E9304", "aggregate_id"),
            (body(replacing: ["aggregate_id": "\"é\""]), "E9304", "aggregate_id"),
            (body(extra: "\"extra\":1"), "E9307", "extra"),
            (body(extra: "\"Event_Type\":\"x\""), "E9307", "Event_Type"),
            (
                body(replacing: ["payload": String(repeating: "[", count: 40) + String(repeating: "]", count: 40)]),
                "E9306", nil
            ),
            (
                body(replacing: [
                    "payload": String(repeating: "{\"a\":", count: 40) + "1" + String(repeating: "}", count: 40)
                ]),
                "E9306", nil
            ),
        ] as [(String, String, String?)])
    func validation(body: String, code: String, field: String?) throws {
        let response = try RouterHarness().post(body)
        #expect(response.status == 400)
        #expect(response.errorCodeAndField.code == code)
        #expect(response.errorCodeAndField.field == field)
    }

    @Test("the body may nest 32 levels deep (the body object is level 1); 33 levels answer E9306")
    func depthBoundary() throws {
        let harness = try RouterHarness()
        let nested = { (levels: Int) in String(repeating: "[", count: levels) + String(repeating: "]", count: levels) }
        #expect(harness.post(Self.body(replacing: ["payload": "{\"a\":" + nested(30) + "}"])).status == 201)
        let over = harness.post(Self.body(replacing: ["payload": "{\"a\":" + nested(31) + "}"]))
        #expect(over.status == 400)
        #expect(over.errorCodeAndField.code == "E9306")
    }

    @Test("a body that is not UTF-8 is refused with 400")
    func invalidUTF8Body() throws {
        let body = Array(Self.body(replacing: ["aggregate_type": "\"st\u{FFFD}\""]).utf8).map { $0 == 0xEF ? 0xFF : $0 }
        let response = try RouterHarness().send("POST", "/api/v1/events", body: body)
        #expect(response.status == 400)
        #expect(response.errorCodeAndField.code == "E9301")
    }

    @Test("payload and metadata size limits answer 400 naming the field; a huge body 413")
    func sizeLimits() throws {
        let harness = try RouterHarness()
        let big = "{\"s\":\"" + String(repeating: "x", count: 256 * 1024) + "\"}"
        let payload = harness.post(Self.body(replacing: ["payload": big]))
        #expect(payload.status == 400 && payload.errorCodeAndField == ("E9305", "payload"))
        let meta = "{\"s\":\"" + String(repeating: "x", count: 64 * 1024) + "\"}"
        let metadata = harness.post(Self.body(extra: "\"metadata\":" + meta))
        #expect(metadata.status == 400 && metadata.errorCodeAndField == ("E9305", "metadata"))
        let huge = harness.post(
            Self.body(replacing: ["payload": "{\"s\":\"\(String(repeating: "x", count: 600_000))\"}"]))
        #expect(huge.status == 413)
        let justUnder = "{\"s\":\"" + String(repeating: "x", count: 256 * 1024 - 8) + "\"}"
        #expect(harness.post(Self.body(replacing: ["payload": justUnder])).status == 201)
    }

    @Test(
        "Content-Type must be exactly one application/json, else 415",
        arguments: [
            (nil, 415), ("text/plain", 415), ("application/jsonx", 415), ("application/json; charset=latin1", 415),
            ("application/x-www-form-urlencoded", 415), ("application/json", 201), ("Application/JSON", 201),
            ("application/json; charset=UTF-8", 201), ("application/json;charset=\"utf-8\"", 201),
        ] as [(String?, Int)])
    func contentType(value: String?, status: Int) throws {
        let response = try RouterHarness().send(
            "POST", "/api/v1/events", body: Array(Self.body().utf8), contentType: value)
        #expect(response.status == status)
        if status == 415 { #expect(response.errorCodeAndField.code == "E9315") }
    }

    @Test("two Content-Type headers are refused with 415")
    func duplicateContentType() throws {
        let harness = try RouterHarness()
        var headers = HTTPHeaders([("X-Service-Key", RouterHarness.key), ("Content-Type", "application/json")])
        headers.add("Content-Type", "application/json")
        let request = HTTPRequest(
            method: "POST", target: "/api/v1/events", headers: headers, body: Array(Self.body().utf8))
        #expect(harness.router.route(request).status == 415)
    }

    @Test(
        "GET by id: 400 for what is not a UUID, 404 for an unknown one",
        arguments: [
            ("/api/v1/events/not-a-uuid", 400), ("/api/v1/events/00000000-0000-4000-8000-00000000000", 400),
            ("/api/v1/events/00000000-0000-4000-8000-00000000000g", 400), ("/api/v1/events/%27%20OR%201=1", 400),
            ("/api/v1/events/00000000-0000-4000-8000-000000000000", 404), ("/api/v1/events/", 404),
            ("/api/v1/events/00000000-0000-4000-8000-000000000000/x", 404),
            ("/api/v1/events/00000000-0000-4000-8000-000000000000?x=1", 400),
        ])
    func fetchByBadID(target: String, status: Int) throws {
        let response = try RouterHarness().send("GET", target)
        #expect(response.status == status)
        #expect(response.headers.first("Content-Type") == "application/json")
        #expect(response.errorCodeAndField.code != nil)
    }
}
