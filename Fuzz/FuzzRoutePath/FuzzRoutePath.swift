import Config
import FuzzSupport

/// Fuzzes route matching, `RouteTable.match(pathBytes:)` and `match(path:)`: the input is a request target.
///
/// Normalisation in front of the matcher has its own harness (`FuzzRequestTarget`). Each answer is checked
/// against a slow model written from the documented rule: the longest prefix that equals the path (before `?`) or is followed by `/` in it, case-sensitive.
enum RoutePathHarness {
    static let upstream = UpstreamURL(host: "127.0.0.1", port: 8001)
    static let prefixes = ["/", "/api/v1/events", "/api/v1/admin", "/api", "/public", "/api/v1/events/%2e"]
    static let table = RouteTable(
        routes: prefixes.map { Route(prefix: $0, upstream: upstream, scopesByMethod: ["GET": []]) })
    static let withoutRoot = RouteTable(routes: table.routes.filter { $0.prefix != "/" })

    static func run(_ input: UnsafeRawBufferPointer) {
        let bytes = Array(input)
        for candidate in [table, withoutRoot] {
            let found = candidate.match(pathBytes: input)?.prefix
            FuzzCheck.expect(found == model(candidate, bytes), "match(pathBytes:) differs from the model")
            // `match(path:)` sees the same bytes only when they are valid UTF-8.
            if let text = String(validating: bytes, as: UTF8.self) {
                FuzzCheck.expect(candidate.match(path: text)?.prefix == found, "match(path:) differs")
            }
        }
    }

    /// The documented rule, written plainly over arrays.
    static func model(_ table: RouteTable, _ target: [UInt8]) -> String? {
        let path = Array(target.prefix { $0 != UInt8(ascii: "?") })
        var best: String?
        for route in table.routes {
            let prefix = Array(route.prefix.utf8)
            guard path.starts(with: prefix) else { continue }
            let boundary = prefix == [UInt8(ascii: "/")] || path.count == prefix.count
                || path[prefix.count] == UInt8(ascii: "/")
            guard boundary else { continue }
            if best.map({ prefix.count > $0.utf8.count }) ?? true { best = route.prefix }
        }
        return best
    }
}

/// libFuzzer in a fuzzing build, a replay of the argument files otherwise (see `FuzzEntry`).
@main
enum FuzzRoutePathMain {
    static func main() {
        FuzzEntry.main(RoutePathHarness.run)
    }
}
