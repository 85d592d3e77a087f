import Auth
import Config

/// Who a request proved to be, however it proved it: the consumer id upstreams see, its roles, and its
/// scopes after role expansion.
public struct ConsumerIdentity: Sendable, Equatable {
    /// How the caller authenticated.
    public enum Method: String, Sendable {
        /// A JWT bearer token.
        case token
        /// An API key (`X-API-Key` or `Authorization: Bearer spk_…`).
        case apiKey = "api_key"
        /// A verified client certificate mapped to a service account.
        case certificate
    }

    /// The consumer id (`sub`, the key's name, or the service account); nil for a token without `sub`.
    public let subject: String?
    public let roles: [String]
    /// The scopes held: explicit ones, then those the roles grant.
    public let scopes: [String]
    /// Whether a role grants every scope (`"*"`).
    public let holdsEveryScope: Bool
    public let method: Method
    /// The token's `jti`, for a JWT.
    public let tokenID: String?
    /// The API key's public id, for an API key.
    public let keyID: String?

    /// An identity whose roles are expanded to scopes by `policy`.
    public init(
        subject: String?, roles: [String], scopes: [String], method: Method, policy: AccessPolicy,
        tokenID: String? = nil, keyID: String? = nil
    ) {
        let granted = policy.scopes(forRoles: roles)
        var all = scopes
        for scope in granted.scopes where !all.contains(scope) { all.append(scope) }
        self.subject = subject
        self.roles = roles
        self.scopes = all
        self.holdsEveryScope = granted.all
        self.method = method
        self.tokenID = tokenID
        self.keyID = keyID
    }

    /// Whether the identity holds `scope`.
    public func holds(scope: String) -> Bool { holdsEveryScope || scopes.contains(scope) }

    /// Whether the identity holds at least one of `roles`; true when `roles` is empty.
    public func holdsAny(of roles: [String]) -> Bool { roles.isEmpty || roles.contains { self.roles.contains($0) } }

    /// The `X-Consumer-Scopes` value: the scopes held, space-separated; `*` first when every scope is.
    public var scopeHeader: String {
        (holdsEveryScope ? ["*"] + scopes : scopes).joined(separator: " ")
    }
}
