import PortalCore

/// What a token proved, after its signature and claims were checked.
public struct VerifiedToken: Sendable, Equatable {
    /// The `sub` claim.
    public let subject: String?
    /// The space-separated `scope` claim, followed by any `scp` array entries not already present.
    public let scopes: [String]
    /// The `roles` array claim; empty when absent.
    public let roles: [String]
    /// The `jti` claim.
    public let jwtID: String?
    /// The `exp` claim, in Unix seconds.
    public let expiresAt: Int64
    /// The `iat` claim, in Unix seconds.
    public let issuedAt: Int64?
    /// The `iss` claim.
    public let issuer: String?
    /// The `kid` of the header, when it had one.
    public let keyID: String?
    /// The algorithm of the key that verified the signature.
    public let algorithm: JWTAlgorithm
    /// Every claim as the payload held it.
    public let claims: JSONObject
}
