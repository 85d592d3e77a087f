import Auth
import Crypto
import PortalCore

/// What the product puts in the tokens it issues at `POST /auth/token`, and how it signs them.
///
/// Access tokens are JWTs signed HS256 (`JWT_SECRET`) or ES256 (`JWT_SIGNING_KEY_FILE`), with `kid`, `jti`,
/// `iss`, `aud`, `sub`, `scope`, `roles`, `iat`, `exp` and, when minted from an API key, `client_id`; they last
/// `accessLifetimeSeconds` (`JWT_EXPIRATION`).
/// Refresh tokens are opaque (`RefreshTokenFormat`) and last `refreshLifetimeSeconds` per family.
public struct TokenIssuer: Sendable {
    public let signer: JWTSigner
    /// `iss` of issued tokens: `JWT_ISSUER`, or `story-portal`.
    public let issuer: String
    /// `aud` of issued tokens: `JWT_AUDIENCE`, or `story-portal`.
    public let audience: String
    public let accessLifetimeSeconds: Int64
    public let refreshLifetimeSeconds: Int64
    let clock: any PortalClock

    /// - Parameters:
    ///   - signer: HS256 or ES256, with a `kid`; its verification key must be among the gateway's keys.
    ///   - issuer: default `story-portal`.
    ///   - audience: default `story-portal`.
    ///   - accessLifetimeSeconds: default 3600.
    ///   - refreshLifetimeSeconds: default 14 days.
    ///   - clock: the wall clock for `iat` and `exp`.
    public init(
        signer: JWTSigner, issuer: String? = nil, audience: String? = nil, accessLifetimeSeconds: Int = 3600,
        refreshLifetimeSeconds: Int = 1_209_600, clock: any PortalClock = SystemClock()
    ) {
        self.signer = signer
        self.issuer = issuer ?? "story-portal"
        self.audience = audience ?? "story-portal"
        self.accessLifetimeSeconds = Int64(accessLifetimeSeconds)
        self.refreshLifetimeSeconds = Int64(refreshLifetimeSeconds)
        self.clock = clock
    }

    /// An access token that was signed, with its `jti` and `exp`.
    struct Access: Sendable {
        let token: String
        let tokenID: String
        let expiresAt: Int64
    }

    /// Signs an access token for `subject`; `clientID` names the API key it was minted from, if any.
    func access(
        subject: String, roles: [String], scopes: [String], tokenID: String? = nil, clientID: String? = nil
    ) throws(JWTError) -> Access {
        let now = clock.unixSeconds()
        let claims = JWTClaims(
            subject: subject, scopes: scopes, issuedAt: now, expiresAt: now + accessLifetimeSeconds,
            jwtID: tokenID ?? Base64URL.encode(SecureRandom.bytes(count: 16)), issuer: issuer, audience: audience,
            roles: roles, clientID: clientID)
        return Access(token: try signer.sign(claims), tokenID: claims.jwtID, expiresAt: claims.expiresAt)
    }
}
