import DataLayer
import Foundation
import HTTPCodec
import Testing

@Suite("DataLayerRouter: listing")
struct DataLayerListingTests {
    private func page(_ harness: RouterHarness, _ target: String) throws -> (ids: [String], next: String?) {
        let response = harness.send("GET", target)
        #expect(response.status == 200)
        let object = try response.jsonObject()
        let events = try #require(object["events"] as? [[String: Any]])
        #expect(object.keys.contains("next_after"))
        return (events.compactMap { $0["id"] as? String }, object["next_after"] as? String)
    }

    @Test("following next_after visits every event exactly once, then next_after is null")
    func pagination() throws {
        let harness = try RouterHarness()
        var created: [String] = []
        for n in 0..<11 {
            created.append(try #require(try harness.append(aggregate: "agg-\(n % 3)", n: n)["id"] as? String))
        }
        var seen: [String] = []
        var target = "/api/v1/events?limit=4"
        for _ in 0..<10 {
            let (ids, next) = try page(harness, target)
            seen += ids
            guard let next else { break }
            target = "/api/v1/events?limit=4&after=" + next
        }
        #expect(seen == created)
        #expect(try page(harness, "/api/v1/events").ids == created)
    }

    @Test("aggregate_id and event_type filter, alone or together, percent-decoded")
    func filters() throws {
        let harness = try RouterHarness()
        for n in 0..<6 {
            _ = try harness.append(aggregate: n % 2 == 0 ? "story:1" : "story:2", type: n < 3 ? "a.b" : "c-d", n: n)
        }
        #expect(try page(harness, "/api/v1/events?aggregate_id=story%3A1").ids.count == 3)
        #expect(try page(harness, "/api/v1/events?event_type=c-d").ids.count == 3)
        #expect(try page(harness, "/api/v1/events?aggregate_id=story:2&event_type=a.b").ids.count == 1)
        #expect(try page(harness, "/api/v1/events?aggregate_id=nobody").ids.isEmpty)
    }

    @Test(
        "every query parameter is validated; unknown ones are refused",
        arguments: [
            ("limit=0", "E9308", "limit"), ("limit=1001", "E9308", "limit"), ("limit=-1", "E9308", "limit"),
            ("limit=abc", "E9308", "limit"), ("limit=1e3", "E9308", "limit"), ("limit=", "E9308", "limit"),
            ("limit=99999999999999999999", "E9308", "limit"), ("limit=+5", "E9308", "limit"),
            ("after=", "E9308", "after"), ("after=-3", "E9308", "after"), ("after=abc", "E9308", "after"),
            ("after=9999999999999999999", "E9308", "after"), ("aggregate_id=", "E9308", "aggregate_id"),
            ("aggregate_id=a%20b", "E9308", "aggregate_id"), ("event_type=UPPER", "E9308", "event_type"),
            ("event_type=%00", "E9308", "event_type"), ("limit=5&limit=6", "E9308", "limit"),
            ("aggregate_id=%zz", "E9308", "aggregate_id"), ("offset=10", "E9309", "offset"),
            ("LIMIT=5", "E9309", "LIMIT"),
        ])
    func queryValidation(query: String, code: String, field: String) throws {
        let response = try RouterHarness().send("GET", "/api/v1/events?" + query)
        #expect(response.status == 400)
        #expect(response.errorCodeAndField.code == code)
        #expect(response.errorCodeAndField.field == field)
    }

    @Test(
        "an unknown parameter or field name that is not a plain identifier is not echoed back",
        arguments: [
            "/api/v1/events?eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlc2lnbmF0dXJl=1",
            "/api/v1/events?%3Cscript%3E=1", "/api/v1/events?" + String(repeating: "a", count: 33) + "=1",
        ])
    func unknownNamesNotEchoed(target: String) throws {
        let response = try RouterHarness().send("GET", target)
        #expect(response.status == 400)
        #expect(response.errorCodeAndField.code == "E9309")
        #expect(response.errorCodeAndField.field == nil)
        let text = String(decoding: response.body, as: UTF8.self)
        #expect(!text.contains("eyJ") && !text.contains("script") && !text.contains("aaaa"))
    }

    @Test("limit 1000 is accepted and the default page size applies without one")
    func limitBounds() throws {
        let harness = try RouterHarness(configuration: DataLayerConfiguration(defaultPageSize: 2))
        for n in 0..<3 { _ = try harness.append(aggregate: "a", n: n) }
        #expect(try page(harness, "/api/v1/events?limit=1000").ids.count == 3)
        let first = try page(harness, "/api/v1/events")
        #expect(first.ids.count == 2 && first.next != nil)
    }
}

@Suite("DataLayerRouter: routing and service keys")
struct DataLayerRoutingTests {
    @Test(
        "requests without exactly one valid X-Service-Key get 401 JSON",
        arguments: [
            (nil, "/api/v1/events"), ("wrong", "/api/v1/events"), ("", "/api/v1/events"),
            (RouterHarness.key + " ", "/api/v1/events"), (String(RouterHarness.key.dropLast()), "/api/v1/events"),
            (nil, "/nowhere"), (nil, "/api/v1/events/00000000-0000-4000-8000-000000000000"),
        ] as [(String?, String)])
    func unauthorized(key: String?, target: String) throws {
        let response = try RouterHarness().send("GET", target, key: key)
        #expect(response.status == 401)
        #expect(response.errorCodeAndField.code == "E9101")
        #expect(!String(decoding: response.body, as: UTF8.self).contains(RouterHarness.key))
    }

    @Test("a repeated X-Service-Key header is refused even when one copy is right")
    func repeatedKeyHeader() throws {
        let harness = try RouterHarness()
        let headers = HTTPHeaders([("X-Service-Key", RouterHarness.key), ("X-Service-Key", RouterHarness.key)])
        #expect(
            harness.router.route(HTTPRequest(method: "GET", target: "/api/v1/events", headers: headers)).status == 401)
    }

    @Test("health endpoints need no key; readiness pings the store")
    func health() throws {
        let harness = try RouterHarness()
        for target in ["/health/live", "/health/ready"] {
            let response = harness.send("GET", target, key: nil)
            #expect(response.status == 200)
            #expect(try response.jsonObject()["status"] as? String == "ok")
        }
        let wrongMethod = harness.send("POST", "/health/live", key: nil)
        #expect(wrongMethod.status == 405 && wrongMethod.headers.first("Allow") == "GET")
    }

    @Test(
        "unknown paths are 404 JSON and wrong methods 405 with Allow",
        arguments: [
            ("GET", "/", 404, nil), ("GET", "/api/v1/eventsx", 404, nil), ("GET", "/api/v1", 404, nil),
            ("DELETE", "/api/v1/events", 405, "GET, POST"), ("PUT", "/api/v1/events", 405, "GET, POST"),
            ("POST", "/api/v1/events/00000000-0000-4000-8000-000000000000", 405, "GET"),
            ("DELETE", "/api/v1/events/00000000-0000-4000-8000-000000000000", 405, "GET"),
            ("get", "/api/v1/events", 405, "GET, POST"),
        ] as [(String, String, Int, String?)])
    func routing(method: String, target: String, status: Int, allow: String?) throws {
        let response = try RouterHarness().send(method, target)
        #expect(response.status == status)
        #expect(response.headers.first("Allow") == allow)
        #expect(response.headers.first("Content-Type") == "application/json")
        #expect(response.errorCodeAndField.code == (status == 404 ? "E9001" : "E9002"))
    }
}
