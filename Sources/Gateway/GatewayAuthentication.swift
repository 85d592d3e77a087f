import Auth
import Config

/// Everything the gateway's authentication and authorization steps use, built once at start-up.
///
/// Every per-request check reads memory only (the key ring, the API-key and revocation snapshots, the ban
/// list); anything that blocks (password hashing, store writes, a JWKS fetch) runs on background threads.
public final class GatewayAuthentication: Sendable {
    /// The keys that verify bearer tokens now.
    public let keyRing: JWTKeyRing
    /// Refreshes `JWKS_URL` keys into `keyRing`; nil without `JWKS_URL`.
    public let jwks: JWKSRefresher?
    /// Roles, service accounts and client-certificate identities.
    public let policy: AccessPolicy
    /// API keys and revoked token ids from the credential store; nil: neither is accepted nor checked.
    public let credentials: CredentialCache?
    /// Signs the tokens of `POST /auth/token`; nil (or no `credentials`): the endpoints are not served.
    public let tokens: TokenIssuer?
    /// Counts failed authentications and bans addresses; nil: no brute-force protection.
    public let bruteForce: BruteForceGuard?

    /// - Parameters:
    ///   - keyRing: verification keys.
    ///   - jwks: the `JWKS_URL` refresher, or nil.
    ///   - policy: roles and service accounts; default `AccessPolicy.defaultPolicy`.
    ///   - credentials: API keys and revocations; nil refuses every API key.
    ///   - tokens: the token issuer of `POST /auth/token`; its verification key must be in `keyRing`.
    ///   - bruteForce: failure counting and bans; nil: none.
    public init(
        keyRing: JWTKeyRing, jwks: JWKSRefresher? = nil, policy: AccessPolicy = .defaultPolicy,
        credentials: CredentialCache? = nil, tokens: TokenIssuer? = nil, bruteForce: BruteForceGuard? = nil
    ) {
        self.bruteForce = bruteForce
        self.keyRing = keyRing
        self.jwks = jwks
        self.policy = policy
        self.credentials = credentials
        self.tokens = tokens
    }

    /// Authentication by a fixed verifier alone (no JWKS, default policy), as tests and embedders build it.
    public convenience init(verifier: JWTVerifier) {
        self.init(keyRing: JWTKeyRing(verifier: verifier))
    }
}
