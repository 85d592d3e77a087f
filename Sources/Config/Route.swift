/// One entry of the route table: a path prefix, where it forwards, and who may use it.
public struct Route: Sendable, Hashable {
    /// The path prefix, e.g. `/api/v1/events`; also the bounded `route` label for metrics and audit.
    public let prefix: String
    /// Where matching requests go; the request path is appended to its base path unchanged.
    public let upstream: UpstreamURL
    /// Allowed methods (upper-case) and, for each, the scopes a caller must hold (all of them).
    /// A method absent from the map is not allowed on this route (405).
    public let scopesByMethod: [String: [String]]
    /// Whether the route needs no authentication at all (its scope lists are then empty).
    public let isPublic: Bool

    /// The prefix's UTF-8 bytes, for allocation-free matching.
    let prefixBytes: [UInt8]

    /// The methods that HTTP routes may allow.
    public static let knownMethods: Set<String> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

    /// A route from validated parts; `RouteTable` validates the whole table.
    public init(prefix: String, upstream: UpstreamURL, scopesByMethod: [String: [String]], isPublic: Bool = false) {
        self.prefix = prefix
        self.upstream = upstream
        self.scopesByMethod = scopesByMethod
        self.isPublic = isPublic
        self.prefixBytes = Array(prefix.utf8)
    }

    /// The methods this route allows, sorted (for an `Allow` header).
    public var allowedMethods: [String] { scopesByMethod.keys.sorted() }

    /// The scopes `method` requires, or nil when the method is not allowed here.
    public func requiredScopes(for method: String) -> [String]? { scopesByMethod[method] }

    /// Whether this route's prefix matches `path`: equal to it, or followed by `/` in it.
    func matches(_ path: UnsafeRawBufferPointer) -> Bool {
        let count = prefixBytes.count
        guard path.count >= count else { return false }
        // "/" is the root: it matches every path.
        if count == 1 { return path[0] == UInt8(ascii: "/") }
        let samePrefix = prefixBytes.withUnsafeBytes { prefix in
            memcmpEqual(prefix, path, count: count)
        }
        return samePrefix && (path.count == count || path[count] == UInt8(ascii: "/"))
    }

    private func memcmpEqual(_ lhs: UnsafeRawBufferPointer, _ rhs: UnsafeRawBufferPointer, count: Int) -> Bool {
        var index = 0
        while index < count {
            if lhs[index] != rhs[index] { return false }
            index += 1
        }
        return true
    }
}
