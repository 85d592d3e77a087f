import HTTPCodec
import Testing

/// `RequestTarget`: one normalised path, hostile targets refused with their own code.
@Suite("Request target normalisation")
struct RequestTargetTests {
    /// Targets that normalise, and the exact path and query they become.
    static let normalised: [(target: String, path: String, query: String?)] = [
        ("/", "/", nil),
        ("/echo", "/echo", nil),
        ("/echo/", "/echo/", nil),
        ("//echo//x", "/echo/x", nil),
        ("///", "/", nil),
        ("/echo///x//", "/echo/x/", nil),
        ("/echo/./x", "/echo/x", nil),
        ("/echo/.", "/echo/", nil),
        ("/echo/x/..", "/echo/", nil),
        ("/echo/x/../y", "/echo/y", nil),
        ("/public/../echo/x", "/echo/x", nil),
        ("/api/v1/events/../../admin", "/api/admin", nil),
        ("/a/b/c/../../../d", "/d", nil),
        ("/a//../b", "/b", nil),
        ("/a/./././b", "/a/b", nil),
        ("/ECHO/x", "/ECHO/x", nil),
        ("/echo/%7e", "/echo/~", nil),
        ("/echo/%7E", "/echo/~", nil),
        ("/echo/%41%62%2D%5f%30", "/echo/Ab-_0", nil),
        ("/echo/%2ex", "/echo/.x", nil),
        ("/echo/x%2e", "/echo/x.", nil),
        ("/echo/%2e%2e%2e", "/echo/...", nil),
        ("/echo/...", "/echo/...", nil),
        ("/echo/..x", "/echo/..x", nil),
        ("/.well-known/x", "/.well-known/x", nil),
        ("/echo/%20", "/echo/%20", nil),
        ("/echo/%3f", "/echo/%3F", nil),
        ("/echo/%3b", "/echo/%3B", nil),
        ("/echo/%25", "/echo/%25", nil),
        ("/echo/%25%32%66", "/echo/%252f", nil),
        ("/echo/%c3%a9", "/echo/%C3%A9", nil),
        ("/echo/%E2%82%AC", "/echo/%E2%82%AC", nil),
        ("/echo/%F0%9F%98%80x", "/echo/%F0%9F%98%80x", nil),
        ("/echo?x=1", "/echo", "x=1"),
        ("/echo?", "/echo", ""),
        ("/echo/./x?a=/../b&c=%2F", "/echo/x", "a=/../b&c=%2F"),
        ("/echo?a=?b//c", "/echo", "a=?b//c"),
        ("/echo/a:b@c!$&'()*+,=", "/echo/a:b@c!$&'()*+,=", nil),
    ]

    /// Targets refused, with the kind that refuses them.
    static let refused: [(target: String, kind: RequestTargetError.Kind)] = [
        ("", .notOriginForm), ("*", .notOriginForm), ("http://host/echo", .notOriginForm),
        ("HTTPS://host/echo", .notOriginForm), ("echo", .notOriginForm), ("?x", .notOriginForm),
        ("%2Fecho", .notOriginForm),
        ("/echo/%zz", .badEscape), ("/echo/%", .badEscape), ("/echo/%4", .badEscape), ("/echo/%4g", .badEscape),
        ("/echo/%%41", .badEscape), ("/echo/%?x", .badEscape), ("/echo/%4?x", .badEscape),
        ("/echo%2Fx", .encodedSeparator), ("/echo%2fx", .encodedSeparator), ("/echo/%5C", .encodedSeparator),
        ("/echo/%5c..", .encodedSeparator), ("/%2f%2f", .encodedSeparator),
        ("/echo\\x", .backslash), ("/echo/..\\..\\admin", .backslash), ("\\", .notOriginForm),
        ("/echo/%00", .forbiddenByte), ("/echo/%0d%0aX-Injected:1", .forbiddenByte), ("/echo/%7f", .forbiddenByte),
        ("/echo/%1F", .forbiddenByte), ("/echo/%09", .forbiddenByte), ("/echo/\u{0}", .forbiddenByte),
        ("/echo/ x", .forbiddenByte), ("/echo/\r\nX: 1", .forbiddenByte), ("/echo/é", .forbiddenByte),
        ("/echo?a b", .forbiddenByte), ("/echo?a\u{7f}", .forbiddenByte), ("/echo?é", .forbiddenByte),
        ("/echo;x=1", .pathParameter), ("/echo/x;jsessionid=1/y", .pathParameter), ("/echo/..;/admin", .pathParameter),
        ("/echo#frag", .fragment), ("/echo?x=1#frag", .fragment), ("/#", .fragment),
        ("/..", .climbsAboveRoot), ("/../echo", .climbsAboveRoot), ("/echo/../..", .climbsAboveRoot),
        ("/a/b/../../../c", .climbsAboveRoot), ("//..//..", .climbsAboveRoot),
        ("/public/%2e%2e/echo", .encodedDotSegment), ("/echo/%2E", .encodedDotSegment),
        ("/echo/.%2e", .encodedDotSegment), ("/echo/%2e.", .encodedDotSegment), ("/%2e%2e", .encodedDotSegment),
        ("/echo/%c0%af", .invalidUTF8), ("/echo/%c0%ae%c0%ae", .invalidUTF8), ("/echo/%e0%80%af", .invalidUTF8),
        ("/echo/%ed%a0%80", .invalidUTF8), ("/echo/%c3", .invalidUTF8), ("/echo/%c3x%a9", .invalidUTF8),
        ("/echo/%c3/%a9", .invalidUTF8), ("/echo/%ff", .invalidUTF8), ("/echo/%f8%88%80%80%80", .invalidUTF8),
    ]

    @Test("each table target normalises to its exact path and keeps its query byte for byte")
    func normalisedTable() throws {
        for (target, path, query) in Self.normalised {
            let parsed = try RequestTarget(parsing: target)
            #expect(parsed.path == path, "\(target)")
            #expect(parsed.query == query, "\(target)")
            #expect(parsed.normalised == path + (query.map { "?" + $0 } ?? ""), "\(target)")
        }
    }

    @Test("each hostile target is refused with its own kind, a 400 and a code in E9321…E9330")
    func refusedTable() {
        for (target, kind) in Self.refused {
            #expect(throws: RequestTargetError(kind), "\(target.debugDescription)") {
                try RequestTarget(parsing: target)
            }
        }
        let codes = RequestTargetError.Kind.allCases.map { RequestTargetError($0).code }
        #expect(Set(codes).count == codes.count)
        #expect(codes.allSatisfy { $0 >= "E9321" && $0 <= "E9330" })
        #expect(RequestTargetError.Kind.allCases.allSatisfy { RequestTargetError($0).status == 400 })
    }

    @Test("messages and descriptions never echo the target")
    func messagesAreConstant() {
        let marker = "/secret-token-abc/%00"
        do {
            _ = try RequestTarget(parsing: marker)
            Issue.record("accepted a NUL escape")
        } catch {
            #expect(!error.description.contains("secret"))
            #expect(!error.message.contains("secret"))
        }
    }

    @Test("generated targets: output is clean, idempotent and refused targets never half-parse")
    func generated() throws {
        // Pieces that are hostile alone or together; every pair and triple is tried.
        let pieces = [
            "a", "B", ".", "..", "%2e", "%2E%2e", "", "%41", "%7e", "%2f", "%5c", "\\", ";", "%00", "%c3%a9", "%c0",
            "%zz", "x.y", "...", "~", "%25", "?q=/../", "#", "%3B",
        ]
        var checked = 0
        for first in pieces {
            for second in pieces {
                for third in ["", "b", "..", "."] {
                    let target = "/" + first + "/" + second + "/" + third
                    checked += 1
                    guard let parsed = try? RequestTarget(parsing: target) else { continue }
                    let path = parsed.path
                    #expect(path.hasPrefix("/"), "\(target)")
                    for bad in ["//", "/./", "/../", "%2F", "%2f", "%5C", "%5c", "\\", ";", "#"] {
                        #expect(!path.contains(bad), "\(target) -> \(path)")
                    }
                    #expect(!path.hasSuffix("/.") && !path.hasSuffix("/.."), "\(target) -> \(path)")
                    let again = try RequestTarget(parsing: parsed.normalised)
                    #expect(again == parsed, "\(target) is not idempotent")
                }
            }
        }
        #expect(checked >= 200)
    }

    @Test("a target of 8 KiB normalises in one pass, dots and doubled slashes included")
    func longTarget() throws {
        let segment = String(repeating: "a", count: 60)
        let query = String(repeating: "q", count: 500)
        let target = String(repeating: "/" + segment + "//./x/..", count: 100) + "?" + query
        #expect(target.utf8.count > 7_000)
        let parsed = try RequestTarget(parsing: target)
        #expect(parsed.path == String(repeating: "/" + segment, count: 100) + "/")
        #expect(parsed.query?.count == 500)
        #expect(throws: RequestTargetError(.climbsAboveRoot)) {
            try RequestTarget(parsing: String(repeating: "/a", count: 2_000) + String(repeating: "/..", count: 2_001))
        }
    }
}
