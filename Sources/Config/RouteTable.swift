/// The gateway's routes, from `PORTAL_CONFIG` or the default table, with a per-request matcher.
///
/// Matching picks the longest prefix that equals the path or is followed by `/` in it, so
/// `/api/v1/eventsX` does not match `/api/v1/events`. It is case-sensitive and does not allocate.
public struct RouteTable: Sendable, Hashable {
    /// The routes, longest prefix first.
    public let routes: [Route]

    /// A table over `routes` (already validated); sorted so that longer prefixes win.
    public init(routes: [Route]) {
        self.routes = routes.sorted { $0.prefixBytes.count > $1.prefixBytes.count }
    }

    /// The table used when `PORTAL_CONFIG` is not set: `/api/v1/events` to the data layer at
    /// `http://dataLayerHost:dataLayerPort`, GET needing `events:read` and POST needing `events:write`; and
    /// `/api/v1/audit` (the audit query API) there too, GET needing `audit:read`; and `/api/v1/subjects`, DELETE
    /// (erasure) needing `subjects:erase`.
    public static func defaultTable(dataLayerHost: String = "127.0.0.1", dataLayerPort: Int = 8001) -> RouteTable {
        let upstream = UpstreamURL(host: dataLayerHost, port: dataLayerPort)
        let events = Route(
            prefix: "/api/v1/events", upstream: upstream,
            scopesByMethod: ["GET": ["events:read"], "POST": ["events:write"]])
        let audit = Route(prefix: "/api/v1/audit", upstream: upstream, scopesByMethod: ["GET": ["audit:read"]])
        let subjects = Route(
            prefix: "/api/v1/subjects", upstream: upstream, scopesByMethod: ["DELETE": ["subjects:erase"]])
        return RouteTable(routes: [events, audit, subjects])
    }

    /// The route for `path` (its query, from `?`, is ignored), or nil when none matches.
    public func match(path: String) -> Route? {
        var path = path
        return path.withUTF8 { match(pathBytes: UnsafeRawBufferPointer($0)) }
    }

    /// The route for the request target in `pathBytes` (its query, from `?`, is ignored), or nil.
    public func match(pathBytes: UnsafeRawBufferPointer) -> Route? {
        var length = pathBytes.count
        if let question = pathBytes.firstIndex(of: UInt8(ascii: "?")) { length = question }
        let path = UnsafeRawBufferPointer(rebasing: pathBytes[0..<length])
        for route in routes where route.matches(path) {
            return route
        }
        return nil
    }
}
