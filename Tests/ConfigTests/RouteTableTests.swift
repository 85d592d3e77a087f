import Foundation
import Testing

@testable import Config

@Suite("RouteTable")
struct RouteTableTests {
    private func table(_ json: String) throws -> RouteTable {
        try RouteTable(json: Data(json.utf8))
    }

    private func route(_ fields: String) -> String {
        #"{"routes": [{"prefix": "/a", "upstream": "http://127.0.0.1:1", "methods": ["GET"]"#
            + (fields.isEmpty ? "" : ", " + fields) + "}]}"
    }

    @Test("reads the shape from DESIGN.md")
    func designShape() throws {
        let routes = try table(
            #"""
            {"routes": [
              {"prefix": "/api/v1/events", "upstream": "http://127.0.0.1:8001",
               "methods": ["GET"], "scopes": ["events:read"]},
              {"prefix": "/status", "upstream": "http://127.0.0.1:8010", "methods": ["GET"], "public": true}
            ], "consumers": []}
            """#)
        let events = try #require(routes.match(path: "/api/v1/events/42"))
        #expect(events.requiredScopes(for: "GET") == ["events:read"])
        #expect(events.requiredScopes(for: "POST") == nil)
        #expect(!events.isPublic && events.upstream.port == 8001)
        let status = try #require(routes.match(path: "/status"))
        #expect(status.isPublic && status.requiredScopes(for: "GET") == [])
    }

    @Test("per-method scopes through scopes_by_method")
    func scopesByMethod() throws {
        let routes = try table(
            #"{"routes": [{"prefix": "/e", "upstream": "http://h:1", "#
                + #""scopes_by_method": {"GET": ["r"], "POST": ["w"]}}]}"#)
        let entry = try #require(routes.match(path: "/e"))
        #expect(entry.requiredScopes(for: "GET") == ["r"] && entry.requiredScopes(for: "POST") == ["w"])
        #expect(entry.allowedMethods == ["GET", "POST"])
    }

    @Test(
        "refuses invalid tables naming PORTAL_CONFIG and the JSON path",
        arguments: [
            ("not json", "$ (line 1, column 2)"),
            (#"{"routes": [], "routes": []}"#, "$ (line 1, column 16)"),
            ("[]", "$"),
            (#"{"routes": []}"#, "$.routes"),
            (#"{"routes": {}}"#, "$.routes"),
            (#"{"routes": [42]}"#, "$.routes[0]"),
            (#"{"routes": [{"prefix": "a", "upstream": "http://h:1", "methods": ["GET"]}]}"#, "$.routes[0].prefix"),
            (
                #"{"routes": [{"prefix": "/a/../b", "upstream": "http://h:1", "methods": ["GET"]}]}"#,
                "$.routes[0].prefix"
            ),
            (#"{"routes": [{"prefix": "/a%2F", "upstream": "http://h:1", "methods": ["GET"]}]}"#, "$.routes[0].prefix"),
            (#"{"routes": [{"prefix": "/a?x", "upstream": "http://h:1", "methods": ["GET"]}]}"#, "$.routes[0].prefix"),
            (#"{"routes": [{"prefix": "/a#x", "upstream": "http://h:1", "methods": ["GET"]}]}"#, "$.routes[0].prefix"),
            (#"{"routes": [{"prefix": "/a/", "upstream": "http://h:1", "methods": ["GET"]}]}"#, "$.routes[0].prefix"),
            (#"{"routes": [{"prefix": "/a b", "upstream": "http://h:1", "methods": ["GET"]}]}"#, "$.routes[0].prefix"),
            (#"{"routes": [{"prefix": 7, "upstream": "http://h:1", "methods": ["GET"]}]}"#, "$.routes[0].prefix"),
            (#"{"routes": [{"prefix": "/a", "upstream": "https://h:1", "methods": ["GET"]}]}"#, "$.routes[0].upstream"),
            (
                #"{"routes": [{"prefix": "/a", "upstream": "http://u@h:1", "methods": ["GET"]}]}"#,
                "$.routes[0].upstream"
            ),
            (#"{"routes": [{"prefix": "/a", "upstream": "http://h:1", "methods": []}]}"#, "$.routes[0].methods"),
            (#"{"routes": [{"prefix": "/a", "upstream": "http://h:1"}]}"#, "$.routes[0].methods"),
            (
                #"{"routes": [{"prefix": "/a", "upstream": "http://h:1", "methods": ["get"]}]}"#,
                "$.routes[0].methods[0]"
            ),
            (
                #"{"routes": [{"prefix": "/a", "upstream": "http://h:1", "methods": ["TRACE"]}]}"#,
                "$.routes[0].methods[0]"
            ),
            (
                #"{"routes": [{"prefix": "/a", "upstream": "http://h:1", "methods": ["GET", "GET"]}]}"#,
                "$.routes[0].methods[1]"
            ),
            (
                #"{"routes": [{"prefix": "/a", "upstream": "http://h:1", "methods": ["GET"], "scopes": [""]}]}"#,
                "$.routes[0].scopes[0]"
            ),
            (
                #"{"routes": [{"prefix": "/a", "upstream": "http://h:1", "methods": ["GET"], "scopes": ["a b"]}]}"#,
                "$.routes[0].scopes[0]"
            ),
            (
                #"{"routes": [{"prefix": "/a", "upstream": "http://h:1", "methods": ["GET"], "scopes": "r"}]}"#,
                "$.routes[0].scopes"
            ),
            (
                #"{"routes": [{"prefix": "/a", "upstream": "http://h:1", "methods": ["GET"], "public": 1}]}"#,
                "$.routes[0].public"
            ),
            (
                #"{"routes": [{"prefix": "/a", "upstream": "http://h:1", "methods": ["GET"], "public": "true"}]}"#,
                "$.routes[0].public"
            ),
            (
                #"{"routes": [{"prefix": "/a", "upstream": "http://h:1", "methods": ["GET"], "scopes": ["r"], "#
                    + #""public": true}]}"#,
                "$.routes[0]"
            ),
            (
                #"{"routes": [{"prefix": "/a", "upstream": "http://h:1", "methods": ["GET"], "scope": ["r"]}]}"#,
                "$.routes[0]"
            ),
            (
                #"{"routes": [{"prefix": "/a", "upstream": "http://h:1", "methods": ["GET"]}, "#
                    + #"{"prefix": "/a", "upstream": "http://h:1", "methods": ["GET"]}]}"#,
                "$.routes[1].prefix"
            ),
            (
                #"{"routes": [{"prefix": "/a", "upstream": "http://h:1", "methods": ["GET"], "#
                    + #""scopes_by_method": {"GET": []}}]}"#,
                "$.routes[0]"
            ),
            (
                #"{"routes": [{"prefix": "/a", "upstream": "http://h:1", "scopes_by_method": {"FETCH": []}}]}"#,
                "$.routes[0].scopes_by_method"
            ),
        ])
    func refuses(json: String, jsonPath: String) {
        #expect {
            try table(json)
        } throws: { error in
            let description = String(describing: error)
            return description.hasPrefix("PORTAL_CONFIG: \(jsonPath): ") && !description.contains("\n")
        }
    }

    @Test("an unknown key names the route index and the key")
    func unknownKey() {
        #expect {
            try table(route(#""timeout": 5"#))
        } throws: { error in
            String(describing: error).hasPrefix(#"PORTAL_CONFIG: $.routes[0]: unknown key "timeout""#)
        }
    }

    @Test(
        "matches the longest prefix at a / boundary, case-sensitively",
        arguments: [
            ("/api/v1/events", "/api/v1/events"),
            ("/api/v1/events/", "/api/v1/events"),
            ("/api/v1/events/1/x", "/api/v1/events"),
            ("/api/v1/events?limit=5", "/api/v1/events"),
            ("/api/v1/eventsX", "/api"),
            ("/api/v1/events-archive", "/api"),
            ("/api/v1", "/api"),
            ("/api", "/api"),
            ("/API/v1/events", "/"),
            ("/apix", "/"),
            ("/", "/"),
            ("/status/ok", "/status"),
        ])
    func matching(path: String, expected: String) throws {
        let routes = try table(
            #"""
            {"routes": [
              {"prefix": "/", "upstream": "http://h:1", "methods": ["GET"], "public": true},
              {"prefix": "/api", "upstream": "http://h:2", "methods": ["GET"]},
              {"prefix": "/api/v1/events", "upstream": "http://h:3", "methods": ["GET"]},
              {"prefix": "/status", "upstream": "http://h:4", "methods": ["GET"], "public": true}
            ]}
            """#)
        #expect(routes.match(path: path)?.prefix == expected)
        #expect(
            path.utf8.withContiguousStorageIfAvailable { routes.match(pathBytes: UnsafeRawBufferPointer($0)) }??
                .prefix == expected)
    }

    @Test("without a root route, unmatched paths give nil", arguments: ["", "*", "/", "/eventsX", "events", "/Events"])
    func noMatch(path: String) throws {
        let routes = try table(#"{"routes": [{"prefix": "/events", "upstream": "http://h:1", "methods": ["GET"]}]}"#)
        #expect(routes.match(path: path) == nil)
    }

    @Test("the default table routes events to the data layer with per-method scopes")
    func defaultTable() throws {
        let routes = RouteTable.defaultTable(dataLayerHost: "10.0.0.5", dataLayerPort: 7001)
        let events = try #require(routes.match(path: "/api/v1/events"))
        #expect(events.upstream == UpstreamURL(host: "10.0.0.5", port: 7001))
        #expect(events.requiredScopes(for: "GET") == ["events:read"])
        #expect(events.requiredScopes(for: "POST") == ["events:write"])
        #expect(events.requiredScopes(for: "DELETE") == nil)
        #expect(routes.match(path: "/api/v1/eventsX") == nil)
        let subjects = try #require(routes.match(path: "/api/v1/subjects/alice"))
        #expect(subjects.upstream == UpstreamURL(host: "10.0.0.5", port: 7001))
        #expect(subjects.requiredScopes(for: "DELETE") == ["subjects:erase"])
        #expect(subjects.requiredScopes(for: "GET") == nil)
    }
}
