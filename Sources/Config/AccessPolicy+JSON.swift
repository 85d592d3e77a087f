import Foundation

/// Reading the access policy from the `PORTAL_CONFIG` JSON file.
///
/// Shape (both members optional; other top-level members belong to other readers):
/// ```json
/// {"roles": {"developer": ["events:read", "events:write"], "auditor": ["audit:read"]},
///  "service_accounts": {"l03": {"roles": ["service"], "scopes": ["events:read"],
///                               "certificates": [{"sha256": "ab12…"}, {"subject": "CN=l03,O=Story Portal"}]}}}
/// ```
/// A role named here replaces that role's default; others keep theirs. `"*"` in a role's list grants every
/// scope. A service account named here replaces the default account of that id. Fingerprints are 64 hex
/// digits, with or without `:` separators, in either case.
extension AccessPolicy {
    private static let accountKeys: Set<String> = ["roles", "scopes", "certificates"]

    /// Parses the access policy out of a `PORTAL_CONFIG` document.
    /// - Throws: `ConfigError` naming `PORTAL_CONFIG` and the JSON path of the first problem.
    public init(json data: Data) throws(ConfigError) {
        try ConfigJSON.check(data)
        guard let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw ConfigError.invalidRouteTable(jsonPath: "$", reason: "expected a JSON object")
        }
        var roles = Self.defaultRoles
        if let value = root["roles"] {
            guard let map = value as? [String: Any] else {
                throw ConfigError.invalidRouteTable(jsonPath: "$.roles", reason: "expected an object of role: scopes")
            }
            for name in map.keys.sorted() {
                let path = "$.roles.\(name)"
                guard Self.isValidName(name) else {
                    throw ConfigError.invalidRouteTable(jsonPath: path, reason: "a role name is 1 to 64 of a-z 0-9 _ -")
                }
                roles[name] = try Self.parseRoleScopes(map[name], path: path)
            }
        }
        var accounts: [String: ServiceAccount] = [:]
        for account in Self.defaultServiceAccounts { accounts[account.id] = account }
        if let value = root["service_accounts"] {
            guard let map = value as? [String: Any] else {
                let reason = "expected an object of id: account"
                throw ConfigError.invalidRouteTable(jsonPath: "$.service_accounts", reason: reason)
            }
            for id in map.keys.sorted() {
                accounts[id] = try Self.parseAccount(id, map[id], path: "$.service_accounts.\(id)")
            }
        }
        self.init(roles: roles, serviceAccounts: Array(accounts.values))
    }

    /// A role's scopes: scope tokens, or `"*"`.
    private static func parseRoleScopes(_ value: Any?, path: String) throws(ConfigError) -> [String] {
        if let list = value as? [Any], list.contains(where: { ($0 as? String) == everyScope }) {
            guard list.count == 1 else {
                throw ConfigError.invalidRouteTable(jsonPath: path, reason: "\"*\" stands alone in a role's scopes")
            }
            return [everyScope]
        }
        return try RouteTable.parseScopes(value, path: path)
    }

    private static func parseAccount(_ id: String, _ value: Any?, path: String) throws(ConfigError) -> ServiceAccount {
        guard isValidName(id) else {
            throw ConfigError.invalidRouteTable(jsonPath: path, reason: "an account id is 1 to 64 of a-z 0-9 _ -")
        }
        guard let object = value as? [String: Any] else {
            throw ConfigError.invalidRouteTable(jsonPath: path, reason: "expected an account object")
        }
        if let unknown = object.keys.sorted().first(where: { !accountKeys.contains($0) }) {
            let reason = "unknown key \(ConfigError.quoted(unknown)) (known: certificates, roles, scopes)"
            throw ConfigError.invalidRouteTable(jsonPath: path, reason: reason)
        }
        let roles =
            object["roles"] == nil ? ["service"] : try RouteTable.parseRoles(object["roles"], path: path + ".roles")
        let scopes =
            object["scopes"] == nil ? [] : try RouteTable.parseScopes(object["scopes"], path: path + ".scopes")
        var account = ServiceAccount(id: id, roles: roles, scopes: scopes)
        guard let certificates = object["certificates"] else { return account }
        guard let list = certificates as? [Any] else {
            let reason = "expected an array of {\"sha256\": …} or {\"subject\": …}"
            throw ConfigError.invalidRouteTable(jsonPath: path + ".certificates", reason: reason)
        }
        for (index, item) in list.enumerated() {
            let itemPath = "\(path).certificates[\(index)]"
            guard let entry = item as? [String: Any], entry.count == 1 else {
                let reason = "expected {\"sha256\": …} or {\"subject\": …}"
                throw ConfigError.invalidRouteTable(jsonPath: itemPath, reason: reason)
            }
            if let print = entry["sha256"] as? String, let normalised = normalisedFingerprint(print) {
                account.certificateFingerprints.append(normalised)
            } else if let subject = entry["subject"] as? String, !subject.isEmpty, subject.utf8.count <= 1024 {
                account.certificateSubjects.append(subject)
            } else {
                let reason = "expected sha256 as 64 hex digits (\":\" allowed) or a non-empty subject"
                throw ConfigError.invalidRouteTable(jsonPath: itemPath, reason: reason)
            }
        }
        return account
    }

    /// 64 lower-case hex digits from `text` (colons dropped, case folded), or nil.
    static func normalisedFingerprint(_ text: String) -> String? {
        let digits = text.lowercased().filter { $0 != ":" }
        guard digits.count == 64, digits.allSatisfy({ $0.isHexDigit }) else { return nil }
        return digits
    }
}
