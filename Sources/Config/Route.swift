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
    /// For each method, the roles of which a caller must hold at least one; a method absent needs no role.
    public let rolesByMethod: [String: [String]]
    /// A file holding the key under which the gateway signs the caller's identity for this route's upstream
    /// (`X-Consumer-Signature`); nil sends the identity unsigned.
    public let identityKeyFile: String?

    /// The prefix's UTF-8 bytes, for allocation-free matching.
    let prefixBytes: [UInt8]

    /// The methods that HTTP routes may allow.
    public static let knownMethods: Set<String> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

    /// A route from validated parts; `RouteTable` validates the whole table.
    public init(
        prefix: String, upstream: UpstreamURL, scopesByMethod: [String: [String]], isPublic: Bool = false,
        rolesByMethod: [String: [String]] = [:], identityKeyFile: String? = nil
    ) {
        self.prefix = prefix
        self.upstream = upstream
        self.scopesByMethod = scopesByMethod
        self.isPublic = isPublic
        self.rolesByMethod = rolesByMethod
        self.identityKeyFile = identityKeyFile
        self.prefixBytes = Array(prefix.utf8)
    }

    /// The methods this route allows, sorted (for an `Allow` header).
    public var allowedMethods: [String] { scopesByMethod.keys.sorted() }

    /// The scopes `method` requires, or nil when the method is not allowed here.
    public func requiredScopes(for method: String) -> [String]? { scopesByMethod[method] }

    /// The roles of which `method` needs one; empty when the method names none.
    public func requiredRoles(for method: String) -> [String] { rolesByMethod[method] ?? [] }

    /// Whether `method` names any rule (a scope or a role); a non-public method that names none is denied to
    /// everyone, so that forgetting a rule never opens a route.
    public func hasRule(for method: String) -> Bool {
        isPublic || !(scopesByMethod[method] ?? []).isEmpty || !(rolesByMethod[method] ?? []).isEmpty
    }

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
