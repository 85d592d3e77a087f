import Auth
import Config
import Store

/// Makes API keys, for `portal key` and the admin API alike: checks the request against the name's service
/// account, generates the key and the record the store keeps (with only a keyed hash of the secret).
public enum APIKeyIssuer {
    /// A request that cannot be granted; `description` says why in one line.
    public struct Refusal: Error, Sendable, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// A key to hand out once, and what to store.
    public struct Issued: Sendable {
        /// `spk_<id>_<secret>`: shown once, never stored.
        public let key: String
        public let record: APIKeyRecord
    }

    /// A new key for consumer `name`.
    /// - Parameters:
    ///   - scopes: nil: the service account's scopes (none without an account).
    ///   - roles: nil: the account's roles (`service` without an account).
    ///   - lifetimeSeconds: nil: no expiry.
    /// - Throws: `Refusal` for a bad name, unknown role, or more than the name's service account holds.
    public static func create(
        name: String, scopes: [String]?, roles: [String]?, lifetimeSeconds: Int?, policy: AccessPolicy,
        hasher: CredentialHasher, now: Int64
    ) throws(Refusal) -> Issued {
        guard AccessPolicy.isValidName(name) else { throw Refusal("name: 1 to 64 of a-z 0-9 _ -") }
        let account = policy.serviceAccounts[name]
        let scopes = scopes ?? account?.scopes ?? []
        let roles = roles ?? account?.roles ?? ["service"]
        for scope in scopes where !isScopeToken(scope) { throw Refusal("scopes: \(scope) is not a scope token") }
        for role in roles where policy.roles[role] == nil {
            let known = policy.roles.keys.sorted().joined(separator: ", ")
            throw Refusal("roles: unknown role \(role) (known: \(known))")
        }
        if let account {
            if let extra = scopes.first(where: { !account.scopes.contains($0) }) {
                let held = account.scopes.joined(separator: " ")
                throw Refusal("scopes: \(name) may not hold \(extra) (its service account holds: \(held))")
            }
            if let extra = roles.first(where: { !account.roles.contains($0) }) {
                let held = account.roles.joined(separator: " ")
                throw Refusal("roles: \(name) may not hold \(extra) (its service account holds: \(held))")
            }
        }
        if let lifetimeSeconds, !(1...315_360_000).contains(lifetimeSeconds) {
            throw Refusal("expires: from 1 second to 10 years")
        }
        let (key, id, secret) = APIKeyFormat.generate()
        let record = APIKeyRecord(
            id: id, name: name, secretHash: hasher.hash(secret), roles: roles, scopes: scopes, createdAt: now,
            expiresAt: lifetimeSeconds.map { now + Int64($0) })
        return Issued(key: key, record: record)
    }

    /// A replacement for `previous`: same name, scopes, roles and lifetime, a fresh id and secret.
    public static func replacement(for previous: APIKeyRecord, hasher: CredentialHasher, now: Int64) -> Issued {
        let (key, id, secret) = APIKeyFormat.generate()
        var record = previous
        record.id = id
        record.secretHash = hasher.hash(secret)
        record.createdAt = now
        record.expiresAt = previous.expiresAt.map { now + ($0 - previous.createdAt) }
        record.revokedAt = nil
        record.graceUntil = nil
        record.replacedBy = nil
        return Issued(key: key, record: record)
    }

    /// RFC 6749 scope-token: visible ASCII except space, `"` and `\`.
    static func isScopeToken(_ scope: String) -> Bool {
        !scope.isEmpty && scope.utf8.allSatisfy { (0x21...0x7E).contains($0) && $0 != 0x22 && $0 != 0x5C }
    }
}
