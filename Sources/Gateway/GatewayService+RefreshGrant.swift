import Audit
import Auth
import Crypto
import HTTPCodec
import PortalCore
import Store

/// `grant_type=refresh_token` and `POST /auth/revoke`.
///
/// A refresh token works once: redeeming it stores its successor and marks it spent, in one transaction. A spent
/// token presented again means two parties hold the family (one of them a thief), so the whole family is revoked,
/// with the access tokens issued in it, the event is audited (`token.refresh_replayed`) and the caller refused.
extension GatewayService {
    func refreshGrant(_ grant: TokenGrant) {
        var grant = grant
        guard let presented = grant.parameters["refresh_token"] else { return answer(grant, .invalidRequest) }
        guard RefreshTokenFormat.isWellFormed(presented) else {
            return refuse(grant, .invalidGrant, reason: "malformed_refresh_token", kind: .guess, account: nil)
        }
        let hasher = grant.credentials.hasher
        let next = RefreshTokenFormat.generate()
        let accessTokenID = Base64URL.encode(SecureRandom.bytes(count: 16))
        let replacement = RefreshTokenRecord(
            tokenHash: hasher.hash(next), familyID: "", subject: "", roles: [], scopes: [], issuedAt: grant.now,
            expiresAt: 0, accessTokenID: accessTokenID, accessExpiresAt: grant.now + grant.tokens.accessLifetimeSeconds)
        let outcome: RefreshRedemption
        do {
            outcome = try grant.credentials.store.redeemRefreshToken(
                tokenHash: hasher.hash(presented), replacement: replacement, at: grant.now)
        } catch {
            return answer(grant, .serverError)
        }
        switch outcome {
        case .rotated(let spent):
            grant.exchange.subject = spent.subject
            // A person disabled, or whose password changed, since this token was issued loses the family now.
            if let user = try? grant.credentials.store.user(named: spent.subject),
                user.disabled || spent.issuedAt < user.updatedAt
            {
                let reason = user.disabled ? "user_disabled" : "password_changed"
                revokeFamily(grant, tokenHash: hasher.hash(next), reason: reason)
                return refuse(grant, .invalidGrant, reason: reason, kind: .stale, account: spent.subject)
            }
            guard let granted = requestedScopes(grant, held: spent.scopes, roles: spent.roles) else {
                return answer(grant, .invalidScope)
            }
            issue(
                grant, subject: spent.subject, roles: granted.roles, scopes: granted.scopes, withRefresh: true,
                how: "refresh",
                refresh: next, accessTokenID: accessTokenID)
        case .replayed(let spent, let revoked):
            grant.exchange.subject = spent.subject
            forget(revoked, grant)
            record(.refreshReplayed, outcome: .denied, grant.exchange, reason: "family_revoked:\(revoked.count)")
            refuse(grant, .invalidGrant, reason: "refresh_replayed", kind: .guess, account: spent.subject)
        case .revoked:
            refuse(grant, .invalidGrant, reason: "refresh_revoked", kind: .stale, account: nil)
        case .expired:
            refuse(grant, .invalidGrant, reason: "refresh_expired", kind: .stale, account: nil)
        case .unknown:
            refuse(grant, .invalidGrant, reason: "unknown_refresh_token", kind: .guess, account: nil)
        }
    }

    /// `POST /auth/revoke` (RFC 7009): a refresh token revokes its family, an access token its `jti`. The answer
    /// is 200 whether or not the token was known, so the endpoint tells nothing about tokens.
    func revoke(_ grant: TokenGrant) {
        guard let token = grant.parameters["token"] else { return answer(grant, .invalidRequest) }
        if RefreshTokenFormat.isWellFormed(token) {
            revokeFamily(grant, tokenHash: grant.credentials.hasher.hash(token), reason: "logout")
        } else if let verified = try? grant.auth.keyRing.verifier.verify(token), let jti = verified.jwtID {
            grant.credentials.revoke(tokenID: jti, untilUnixSeconds: verified.expiresAt, reason: "logout")
            var exchange = grant.exchange
            exchange.subject = verified.subject
            record(.tokenRevoked, outcome: .success, exchange, reason: "access_token")
        }
        let response = HTTPResponse(status: 200, headers: OAuthError.noStoreHeaders, body: Array("{}".utf8))
        finish(response, grant.exchange, grant.respond)
    }

    /// Revokes the family of `tokenHash` durably and its access tokens in memory (and Redis) at once.
    private func revokeFamily(_ grant: TokenGrant, tokenHash: String, reason: String) {
        let store = grant.credentials.store
        guard let revoked = try? store.revokeRefreshFamily(tokenHash: tokenHash, at: grant.now, reason: reason) else {
            return
        }
        forget(revoked, grant)
        record(.tokenRevoked, outcome: .success, grant.exchange, reason: "refresh_family:\(reason)")
    }

    /// Refuses the access tokens of a revoked family from now on (they are in the store already).
    private func forget(_ revoked: [RevokedToken], _ grant: TokenGrant) {
        for token in revoked {
            grant.credentials.revocations.revoke(token.tokenID, untilUnixSeconds: token.expiresAt)
        }
    }
}
