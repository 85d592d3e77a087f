import Foundation
import Testing

/// One path for every decision: over real sockets, the route and scopes that decide a request are the ones
/// for the exact path the upstream then receives.
@Suite("Gateway path normalisation")
struct GatewayPathTableTests {
    enum Outcome: Equatable {
        /// The fake upstream receives exactly this target.
        case forwarded(String)
        /// The gateway answers this status and code; nothing reaches an upstream.
        case answered(Int, String)
    }

    struct Row {
        var target: String
        /// Scopes of the bearer token sent; nil sends no credential.
        var scopes: [String]?
        var outcome: Outcome
        /// The route the audit trail must name for this request; nil when the route writes no record.
        var audited: String?

        init(_ target: String, _ scopes: [String]? = nil, _ outcome: Outcome, audited: String? = nil) {
            self.target = target
            self.scopes = scopes
            self.outcome = outcome
            self.audited = audited
        }
    }

    static let read = ["echo:read"]
    static let eightThousandBs = String(repeating: "b", count: 8_000)

    /// `/echo` forwards under base path `/base` and needs `echo:read`; `/public` forwards as is, no credential.
    static let rows: [Row] = [
        // Dot segments resolve first, so the route that authorizes is the route that forwards.
        Row("/api/v1/events/../../admin", nil, .answered(404, "E9001")),
        Row("/public/../echo/x", nil, .answered(401, "E9101"), audited: "/echo"),
        Row("/public/../echo/x", read, .forwarded("/base/echo/x"), audited: "/echo"),
        Row("/public/x/../../echo/x", nil, .answered(401, "E9101"), audited: "/echo"),
        Row("/public/..//echo/x", ["other:scope"], .answered(403, "E9201"), audited: "/echo"),
        Row("/echo/x/../../public/y", nil, .forwarded("/public/y")),
        Row("/echo/./x", read, .forwarded("/base/echo/x"), audited: "/echo"),
        Row("/echo/x/..", read, .forwarded("/base/echo/"), audited: "/echo"),
        Row("/public/./", nil, .forwarded("/public/")),
        Row("/public/a/../../../echo", nil, .answered(400, "E9328")),
        Row("/public//..//..//echo", nil, .answered(400, "E9328")),
        Row("/..", nil, .answered(400, "E9328")),
        // Doubled slashes collapse before routing.
        Row("//echo//x", nil, .answered(401, "E9101"), audited: "/echo"),
        Row("//echo//x", read, .forwarded("/base/echo/x"), audited: "/echo"),
        Row("///public///x///", nil, .forwarded("/public/x/")),
        // Encoded unreserved characters decode before routing: `%65cho` is `/echo` and needs its scope.
        Row("/%65cho/x", nil, .answered(401, "E9101"), audited: "/echo"),
        Row("/%65cho/x", read, .forwarded("/base/echo/x"), audited: "/echo"),
        Row("/%70ublic/%78", nil, .forwarded("/public/x")),
        Row("/echo/%7e", read, .forwarded("/base/echo/~"), audited: "/echo"),
        Row("/echo/%41", read, .forwarded("/base/echo/A"), audited: "/echo"),
        Row("/public/%2ex", nil, .forwarded("/public/.x")),
        Row("/public/%c3%a9", nil, .forwarded("/public/%C3%A9")),
        Row("/public/%3b", nil, .forwarded("/public/%3B")),
        Row("/public/%25%32%65%25%32%65", nil, .forwarded("/public/%252e%252e")),
        // Case is exact: a differently cased prefix is another path.
        Row("/ECHO/x", read, .answered(404, "E9001")),
        Row("/%45CHO/x", read, .answered(404, "E9001")),
        Row("/Public/x", nil, .answered(404, "E9001")),
        Row("/publicx", nil, .answered(404, "E9001")),
        // Encoded dots that form a segment, encoded separators, parameters, backslashes: refused.
        Row("/public/%2e%2e/echo", nil, .answered(400, "E9329")),
        Row("/public/.%2e/echo", nil, .answered(400, "E9329")),
        Row("/public/%2E", nil, .answered(400, "E9329")),
        Row("/api/v1/events/%2e%2e/%2e%2e/admin", nil, .answered(400, "E9329")),
        Row("/echo%2Fx", read, .answered(400, "E9323")),
        Row("/public%2f..%2fecho", nil, .answered(400, "E9323")),
        Row("/public/%5C", nil, .answered(400, "E9323")),
        Row("/public/%2E%2E%2F", nil, .answered(400, "E9323")),
        Row("/echo;x=1", read, .answered(400, "E9326")),
        Row("/public/..;/echo", nil, .answered(400, "E9326")),
        Row("/echo\\x", read, .answered(400, "E9324")),
        Row("/public\\..\\echo", nil, .answered(400, "E9324")),
        // Controls, bad escapes and overlong UTF-8.
        Row("/echo/%00", read, .answered(400, "E9325")),
        Row("/public/x%0d%0aX-Injected:%201", nil, .answered(400, "E9325")),
        Row("/echo/%zz", read, .answered(400, "E9322")),
        Row("/public/%", nil, .answered(400, "E9322")),
        Row("/echo/%c0%af", read, .answered(400, "E9330")),
        Row("/public/%c0%ae%c0%ae/echo", nil, .answered(400, "E9330")),
        Row("/public/%e0%80%ae%e0%80%ae/echo", nil, .answered(400, "E9330")),
        // Other target forms, fragments, and bytes the parser itself refuses.
        Row("http://host/echo", read, .answered(400, "E9321")),
        Row("http://host/public/x", nil, .answered(400, "E9321")),
        Row("*", nil, .answered(400, "E9321")),
        Row("/public/x#frag", nil, .answered(400, "E9327")),
        Row("/public/\u{1}", nil, .answered(400, "E9301")),
        Row("/public/é", nil, .answered(400, "E9301")),
        // Queries are forwarded unchanged, dots and encoded slashes included.
        Row("/public/x?a=/../echo", nil, .forwarded("/public/x?a=/../echo")),
        Row("/public/./x?..%2F..%2Fadmin", nil, .forwarded("/public/x?..%2F..%2Fadmin")),
        Row("//echo/./x?q=%2e%2e", read, .forwarded("/base/echo/x?q=%2e%2e"), audited: "/echo"),
        Row("/public?", nil, .forwarded("/public?")),
        // Long targets: one that is 8 KiB of steps, and one past the parser's 8 KiB limit.
        Row("/public/" + String(repeating: "a/../", count: 1_600) + "x", nil, .forwarded("/public/x")),
        Row("/public/" + String(repeating: "b", count: 8_000), nil, .forwarded("/public/" + Self.eightThousandBs)),
        Row("/public/" + String(repeating: "c", count: 9_000), nil, .answered(414, "E9310")),
    ]

    @Test("each tricky target is decided and forwarded as the same normalised path")
    func table() throws {
        #expect(Self.rows.count >= 40)
        let harness = try GatewayHarness()
        defer { harness.shutdown() }
        let token = try harness.token(scopes: Self.read)
        let other = try harness.token(scopes: ["other:scope"])
        var audited: [(requestID: String, route: String, target: String)] = []

        for row in Self.rows {
            let label = String(row.target.prefix(80))
            let headers = row.scopes.map { [("Authorization", "Bearer " + ($0 == Self.read ? token : other))] } ?? []
            let before = harness.fake.seen.count
            let response = try harness.send("GET", row.target, headers: headers)
            switch row.outcome {
            case .forwarded(let target):
                #expect(response.status == 200, "\(label)")
                #expect(harness.fake.seen.count == before + 1, "\(label)")
                #expect(harness.fake.seen.last?.target == target, "\(label)")
            case .answered(let status, let code):
                #expect(response.status == status, "\(label)")
                #expect(response.errorCode == code, "\(label)")
                #expect(harness.fake.seen.count == before, "\(label) reached the upstream")
            }
            if let route = row.audited, let id = response.header("X-Request-ID") {
                audited.append((id, route, label))
            }
        }

        // The audit trail names the route that the normalised path matched.
        #expect(harness.audit.flush())
        let text = try String(contentsOfFile: harness.auditPath, encoding: .utf8)
        var routes: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            if let id = object?["request_id"] as? String { routes[id] = object?["route"] as? String }
        }
        #expect(audited.count >= 10)
        for entry in audited {
            #expect(routes[entry.requestID] == entry.route, "\(entry.target)")
        }
    }

    @Test("a refused target is answered with a constant message that never echoes it")
    func refusalEchoesNothing() throws {
        let harness = try GatewayHarness()
        defer { harness.shutdown() }
        let response = try harness.send("GET", "/public/secret-marker/%2e%2e/x")

        #expect(response.status == 400)
        #expect(response.errorCode == "E9329")
        #expect(!response.text.contains("secret-marker"))
        #expect(response.header("Content-Type") == "application/json")
    }
}
