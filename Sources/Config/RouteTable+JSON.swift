import Foundation

/// Reading the route table from the `PORTAL_CONFIG` JSON file.
///
/// Shape: `{"routes": [{"prefix", "upstream", "methods", "scopes", "roles", "public", "scopes_by_method",
/// "identity_key_file"}]}`. `methods` + `scopes` give every listed method the same scopes; `scopes_by_method`
/// (an object from method to scopes, or to `{"scopes": [...], "roles": [...]}`) gives each its own; a route
/// uses one form or the other. `roles` (route level) applies to every method that does not name its own.
/// Other top-level keys are left for other readers; unknown keys inside a route are errors.
extension RouteTable {
    private static let routeKeys: Set<String> = [
        "prefix", "upstream", "methods", "scopes", "public", "scopes_by_method", "roles", "identity_key_file",
    ]

    /// The routes of a `PORTAL_CONFIG` file, or nil when it has no `"routes"` member (the default table applies).
    ///
    /// - Throws: `ConfigError` as `init(json:)` does, for a file that is not a JSON object or whose routes are bad.
    public init?(configJSON data: Data) throws(ConfigError) {
        try ConfigJSON.check(data)
        let root = try? JSONSerialization.jsonObject(with: data)
        if let object = root as? [String: Any], object["routes"] == nil { return nil }
        try self.init(json: data)
    }

    /// Parses and validates the JSON text of a `PORTAL_CONFIG` file.
    ///
    /// - Throws: `ConfigError` naming `PORTAL_CONFIG` and the JSON path of the first problem, on one line.
    public init(json data: Data) throws(ConfigError) {
        try ConfigJSON.check(data)
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw ConfigError.invalidRouteTable(jsonPath: "$", reason: "not valid JSON")
        }
        guard let object = root as? [String: Any] else {
            throw ConfigError.invalidRouteTable(jsonPath: "$", reason: "expected a JSON object")
        }
        guard let list = object["routes"] as? [Any], !list.isEmpty else {
            throw ConfigError.invalidRouteTable(jsonPath: "$.routes", reason: "expected a non-empty array of routes")
        }
        var routes: [Route] = []
        var seen: Set<String> = []
        for (index, item) in list.enumerated() {
            let route = try Self.parseRoute(item, path: "$.routes[\(index)]")
            guard seen.insert(route.prefix).inserted else {
                let reason = "duplicate prefix \(ConfigError.quoted(route.prefix))"
                throw ConfigError.invalidRouteTable(jsonPath: "$.routes[\(index)].prefix", reason: reason)
            }
            routes.append(route)
        }
        self.init(routes: routes)
    }

    /// Reads and parses the file at `path`.
    ///
    /// - Throws: `ConfigError` naming `PORTAL_CONFIG` when the file cannot be read or is invalid.
    public init(contentsOfFile path: String) throws(ConfigError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError.invalidValue("PORTAL_CONFIG", expected: "a readable JSON file", got: path)
        }
        try self.init(json: data)
    }

    private static func parseRoute(_ item: Any, path: String) throws(ConfigError) -> Route {
        guard let object = item as? [String: Any] else {
            throw ConfigError.invalidRouteTable(jsonPath: path, reason: "expected a route object")
        }
        if let unknown = object.keys.sorted().first(where: { !routeKeys.contains($0) }) {
            let known = routeKeys.sorted().joined(separator: ", ")
            let reason = "unknown key \(ConfigError.quoted(unknown)) (known: \(known))"
            throw ConfigError.invalidRouteTable(jsonPath: path, reason: reason)
        }
        let prefix = try parsePrefix(object["prefix"], path: path + ".prefix")
        guard let upstreamText = object["upstream"] as? String, let upstream = UpstreamURL.parse(upstreamText) else {
            throw ConfigError.invalidRouteTable(
                jsonPath: path + ".upstream", reason: "expected \(UpstreamURL.expectation)")
        }
        let isPublic = try parsePublic(object["public"], path: path + ".public")
        let routeRoles = object["roles"] == nil ? [] : try parseRoles(object["roles"], path: path + ".roles")
        var scopesByMethod: [String: [String]] = [:]
        var rolesByMethod: [String: [String]] = [:]
        if let byMethod = object["scopes_by_method"] {
            guard object["methods"] == nil, object["scopes"] == nil else {
                let reason = "use either scopes_by_method or methods with scopes, not both"
                throw ConfigError.invalidRouteTable(jsonPath: path, reason: reason)
            }
            guard let map = byMethod as? [String: Any], !map.isEmpty else {
                let reason = "expected an object from method to scopes"
                throw ConfigError.invalidRouteTable(jsonPath: path + ".scopes_by_method", reason: reason)
            }
            for method in map.keys.sorted() {
                let rulePath = path + ".scopes_by_method.\(method)"
                try checkMethod(method, path: path + ".scopes_by_method")
                let (scopes, roles) = try parseMethodRule(map[method], path: rulePath)
                scopesByMethod[method] = scopes
                rolesByMethod[method] = roles ?? routeRoles
            }
        } else {
            let methods = try parseMethods(object["methods"], path: path + ".methods")
            let scopes = object["scopes"] == nil ? [] : try parseScopes(object["scopes"], path: path + ".scopes")
            for method in methods {
                scopesByMethod[method] = scopes
                rolesByMethod[method] = routeRoles
            }
        }
        if isPublic, scopesByMethod.values.contains(where: { !$0.isEmpty }) {
            throw ConfigError.invalidRouteTable(jsonPath: path, reason: "a public route cannot require scopes")
        }
        if isPublic, rolesByMethod.values.contains(where: { !$0.isEmpty }) {
            throw ConfigError.invalidRouteTable(jsonPath: path, reason: "a public route cannot require roles")
        }
        var identityKeyFile: String?
        if let value = object["identity_key_file"] {
            guard let file = value as? String, !file.isEmpty, !file.contains("\0") else {
                throw ConfigError.invalidRouteTable(jsonPath: path + ".identity_key_file", reason: "expected a path")
            }
            identityKeyFile = file
        }
        return Route(
            prefix: prefix, upstream: upstream, scopesByMethod: scopesByMethod, isPublic: isPublic,
            rolesByMethod: rolesByMethod.filter { !$0.value.isEmpty }, identityKeyFile: identityKeyFile)
    }

    /// One method's rule: an array of scopes, or `{"scopes": [...], "roles": [...]}` (roles nil when not named).
    private static func parseMethodRule(_ value: Any?, path: String) throws(ConfigError) -> ([String], [String]?) {
        guard let object = value as? [String: Any] else { return (try parseScopes(value, path: path), nil) }
        if let unknown = object.keys.sorted().first(where: { $0 != "scopes" && $0 != "roles" }) {
            let reason = "unknown key \(ConfigError.quoted(unknown)) (known: roles, scopes)"
            throw ConfigError.invalidRouteTable(jsonPath: path, reason: reason)
        }
        let scopes = object["scopes"] == nil ? [] : try parseScopes(object["scopes"], path: path + ".scopes")
        let roles = object["roles"] == nil ? nil : try parseRoles(object["roles"], path: path + ".roles")
        return (scopes, roles)
    }

    /// An array of role names: 1 to 64 of `a-z 0-9 _ -`.
    static func parseRoles(_ value: Any?, path: String) throws(ConfigError) -> [String] {
        guard let list = value as? [Any] else {
            throw ConfigError.invalidRouteTable(jsonPath: path, reason: "expected an array of role names")
        }
        var roles: [String] = []
        for (index, item) in list.enumerated() {
            guard let role = item as? String, AccessPolicy.isValidName(role) else {
                let reason = "expected a role name of 1 to 64 characters a-z, 0-9, _ or -"
                throw ConfigError.invalidRouteTable(jsonPath: "\(path)[\(index)]", reason: reason)
            }
            if !roles.contains(role) { roles.append(role) }
        }
        return roles
    }

    private static func parsePrefix(_ value: Any?, path: String) throws(ConfigError) -> String {
        let reason = "expected a path starting with \"/\" without \"..\", \"%\", \"?\", \"#\" or a trailing \"/\""
        guard let prefix = value as? String else { throw ConfigError.invalidRouteTable(jsonPath: path, reason: reason) }
        let bad =
            !prefix.hasPrefix("/") || prefix.contains("..") || prefix.contains("//")
            || prefix.contains(where: {
                "%?#\\".contains($0) || $0.isWhitespace || !$0.isASCII || $0.asciiValue ?? 0 < 0x21
            })
            || (prefix.count > 1 && prefix.hasSuffix("/"))
        guard !bad else {
            throw ConfigError.invalidRouteTable(jsonPath: path, reason: reason + ", got \(ConfigError.quoted(prefix))")
        }
        return prefix
    }

    private static func parsePublic(_ value: Any?, path: String) throws(ConfigError) -> Bool {
        guard let value else { return false }
        // JSONSerialization gives booleans and numbers alike as NSNumber; only a real boolean is accepted.
        guard let number = value as? NSNumber, type(of: number) == type(of: NSNumber(value: true)),
            let flag = value as? Bool
        else { throw ConfigError.invalidRouteTable(jsonPath: path, reason: "expected true or false") }
        return flag
    }

    private static func parseMethods(_ value: Any?, path: String) throws(ConfigError) -> [String] {
        guard let list = value as? [Any], !list.isEmpty else {
            throw ConfigError.invalidRouteTable(jsonPath: path, reason: "expected a non-empty array of methods")
        }
        var methods: [String] = []
        for (index, item) in list.enumerated() {
            guard let method = item as? String else {
                throw ConfigError.invalidRouteTable(jsonPath: "\(path)[\(index)]", reason: "expected a method name")
            }
            try checkMethod(method, path: "\(path)[\(index)]")
            guard !methods.contains(method) else {
                let reason = "duplicate method \(ConfigError.quoted(method))"
                throw ConfigError.invalidRouteTable(jsonPath: "\(path)[\(index)]", reason: reason)
            }
            methods.append(method)
        }
        return methods
    }

    private static func checkMethod(_ method: String, path: String) throws(ConfigError) {
        guard Route.knownMethods.contains(method) else {
            let known = Route.knownMethods.sorted().joined(separator: ", ")
            let reason = "expected an upper-case method, one of \(known), got \(ConfigError.quoted(method))"
            throw ConfigError.invalidRouteTable(jsonPath: path, reason: reason)
        }
    }

    static func parseScopes(_ value: Any?, path: String) throws(ConfigError) -> [String] {
        guard let list = value as? [Any] else {
            throw ConfigError.invalidRouteTable(jsonPath: path, reason: "expected an array of scopes")
        }
        var scopes: [String] = []
        for (index, item) in list.enumerated() {
            // RFC 6749 scope-token: visible ASCII except space, `"` and `\`.
            guard let scope = item as? String, !scope.isEmpty,
                scope.utf8.allSatisfy({ (0x21...0x7E).contains($0) && $0 != 0x22 && $0 != 0x5C })
            else {
                let reason = "expected a non-empty scope token of visible ASCII without spaces, quotes or backslashes"
                throw ConfigError.invalidRouteTable(jsonPath: "\(path)[\(index)]", reason: reason)
            }
            if !scopes.contains(scope) { scopes.append(scope) }
        }
        return scopes
    }
}
