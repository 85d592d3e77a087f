import Audit
import Auth
import HTTPCodec
import Net

/// The authentication step: one credential per request — a bearer JWT, an API key (`X-API-Key`, or
/// `Authorization: Bearer spk_…`), or, without either, a verified client certificate mapped to a service account.
///
/// Every failure is counted (`auth_failures_total` for a credential that failed, `unauthorized_access_total` for
/// none), audited with a fingerprint of the credential only, and reported to brute-force protection when it
/// looks like a guess. The completion runs exactly once, on the loop's thread.
extension GatewayService {
    typealias AuthCompletion = @Sendable (Result<ConsumerIdentity, GatewayError>, Exchange) -> Void

    /// What a failed authentication means for counters and brute-force protection.
    enum FailureKind {
        /// No credential at all: `unauthorized_access_total`, never a guess.
        case missing
        /// A credential that failed and could be a guess: `auth_failures_total`, counted against the address.
        case guess
        /// A genuine credential past its lifetime or revoked: `auth_failures_total`, not counted as a guess.
        case stale
    }

    /// Authenticates `request` and calls `completion` on `loop`'s thread.
    func authenticate(
        _ request: HTTPRequest, connection: ConnectionInfo, loop: EventLoop, _ exchange: Exchange,
        completion: @escaping AuthCompletion
    ) {
        var exchange = exchange
        let authorizations = request.headers.all("Authorization")
        let apiKeys = request.headers.all("X-API-Key")
        // Two credentials are ambiguous: which one an upstream or a log would believe is anyone's guess.
        guard authorizations.count + apiKeys.count <= 1 else {
            return fail(.duplicateCredentials, "duplicate_credentials", .guess, exchange, completion)
        }
        let credential: Substring
        if let header = authorizations.first {
            guard let token = Self.bearerToken(header) else {
                return fail(.badAuthorizationScheme, "bad_scheme", .guess, exchange, completion)
            }
            credential = token
        } else if let key = apiKeys.first {
            credential = Substring(key).trimmingSpaces()
        } else {
            return authenticateCertificate(connection, exchange, completion)
        }
        exchange.credentialFingerprint = AuditRecord.fingerprint(of: credential)
        guard let auth else { return fail(.invalidToken, "no_keys", .guess, exchange, completion) }
        if authorizations.isEmpty || APIKeyFormat.hasKeyPrefix(credential) {
            return authenticateAPIKey(String(credential), auth: auth, loop: loop, exchange, completion)
        }
        verifyToken(Array(credential.utf8), auth: auth, loop: loop, retried: false, exchange, completion)
    }

    /// Verifies a bearer JWT; a `kid` no key has triggers one JWKS refresh (if allowed now) and one retry.
    private func verifyToken(
        _ token: [UInt8], auth: GatewayAuthentication, loop: EventLoop, retried: Bool, _ exchange: Exchange,
        _ completion: @escaping AuthCompletion
    ) {
        let verified: VerifiedToken
        do {
            verified = try auth.keyRing.verifier.verify(bytes: token)
        } catch {
            if error.isUnknownKey, !retried, let jwks = auth.jwks {
                return jwks.refreshForUnknownKey { [self] refreshed in
                    loop.execute { [self] in
                        guard refreshed else { return fail(.invalidToken, error.reason, .guess, exchange, completion) }
                        verifyToken(token, auth: auth, loop: loop, retried: true, exchange, completion)
                    }
                }
            }
            return fail(.invalidToken, error.reason, error.isOutsideLifetime ? .stale : .guess, exchange, completion)
        }
        // A subject or scope that cannot travel in a header field would silently vanish upstream.
        guard Self.isHeaderSafe(verified.subject ?? ""), verified.scopes.allSatisfy(Self.isHeaderSafe) else {
            return fail(.invalidToken, "unusable_claims", .guess, exchange, completion)
        }
        // Every caller is someone: a token without `sub`, or with an empty one, would reach upstreams anonymous.
        guard let subject = verified.subject, subject.utf8.contains(where: { $0 != UInt8(ascii: " ") }) else {
            return fail(.missingSubject, "missing_subject", .guess, exchange, completion)
        }
        // Revoked before its `exp` (logout, a replayed refresh token, an operator): memory only (with Redis, its
        // mirror), no I/O.
        if let jti = verified.jwtID, let credentials = auth.credentials, credentials.isRevoked(jti) {
            return failRevoked(exchange, completion)
        }
        let identity = ConsumerIdentity(
            subject: verified.subject, roles: verified.roles, scopes: verified.scopes, method: .token,
            policy: auth.policy, tokenID: verified.jwtID)
        var exchange = exchange
        exchange.subject = identity.subject
        // A token this gateway issued lives no longer than what it was issued on: its API key, or its user's
        // password and enabled state.
        guard let credentials = auth.credentials, let tokens = auth.tokens, verified.issuer == tokens.issuer else {
            return completion(.success(identity), exchange)
        }
        if let keyID = verified.claims["client_id"]?.stringValue {
            return checkTokenKey(keyID, identity, credentials: credentials, loop: loop, exchange, completion)
        }
        if let subject = verified.subject, !credentials.userAccepts(subject, issuedAt: verified.issuedAt ?? 0) {
            return failRevoked(exchange, completion)
        }
        completion(.success(identity), exchange)
    }

    /// A client-credentials token stands while the key it was minted from is usable: from memory, or looked up
    /// on a worker when the snapshot lacks the key (revoked, expired, or not yet seen by this gateway).
    private func checkTokenKey(
        _ keyID: String, _ identity: ConsumerIdentity, credentials: CredentialCache, loop: EventLoop,
        _ exchange: Exchange, _ completion: @escaping AuthCompletion
    ) {
        if let record = credentials.cachedKey(id: keyID) {
            guard record.isUsable(at: credentials.clock.unixSeconds()) else { return failRevoked(exchange, completion) }
            return completion(.success(identity), exchange)
        }
        guard APIKeyFormat.isKeyID(keyID) else { return failRevoked(exchange, completion) }
        credentials.lookupKey(id: keyID) { [self] lookup in
            loop.execute { [self] in
                switch lookup {
                case .found(let record) where record.isUsable(at: credentials.clock.unixSeconds()):
                    completion(.success(identity), exchange)
                case .unavailable:
                    fail(.invalidToken, "key_lookup_unavailable", .stale, exchange, completion)
                case .found, .missing:
                    failRevoked(exchange, completion)
                }
            }
        }
    }

    /// Without a credential header, a client certificate that the TLS layer verified may stand for a service
    /// account (by fingerprint or subject, from `PORTAL_CONFIG`). One that maps to nothing is refused (401 E9107).
    private func authenticateCertificate(
        _ connection: ConnectionInfo, _ exchange: Exchange, _ completion: AuthCompletion
    ) {
        guard let fingerprint = connection.clientCertificateFingerprint else {
            return fail(.missingCredentials, "missing_credentials", .missing, exchange, completion)
        }
        var exchange = exchange
        exchange.credentialFingerprint = String(fingerprint.prefix(16))
        let subject = connection.clientCertificateSubject
        guard let auth, let account = auth.policy.serviceAccount(certificateFingerprint: fingerprint, subject: subject)
        else { return fail(.unmappedCertificate, "unmapped_certificate", .stale, exchange, completion) }
        exchange.subject = account.id
        let identity = ConsumerIdentity(
            subject: account.id, roles: account.roles, scopes: account.scopes, method: .certificate,
            policy: auth.policy)
        completion(.success(identity), exchange)
    }

    private func failRevoked(_ exchange: Exchange, _ completion: AuthCompletion) {
        var exchange = exchange
        exchange.subject = nil
        fail(.revokedToken, "revoked", .stale, exchange, completion)
    }

    /// Counts, audits and reports one failed authentication (against `account`, an API key's id, when known),
    /// then completes with `error`.
    func fail(
        _ error: GatewayError, _ reason: String, _ kind: FailureKind, _ exchange: Exchange,
        _ completion: AuthCompletion, account: String? = nil
    ) {
        switch kind {
        case .missing: metrics.unauthorizedAccess.increment()
        case .guess, .stale: metrics.authFailures.increment()
        }
        record(.authFailure, outcome: .failure, exchange, reason: reason)
        noteFailure(kind, exchange, account: account)
        completion(.failure(error), exchange)
    }
}
