import Audit
import Auth
import Config
import Crypto
import HTTPCodec
import PortalCore
import Store

/// `POST /auth/token` (RFC 6749: `password`, `refresh_token` and `client_credentials` grants) and
/// `POST /auth/revoke` (RFC 7009), answered by the gateway itself and never proxied.
///
/// Password grants (argon2id) run on `PasswordHashPool`, at most one per client address and a bounded number in
/// all (429 or 503 with `Retry-After` past that); everything else that blocks (the store) runs on the credential
/// workers, 503 at once when they are full. Failures are counted, audited and reported to brute-force protection
/// like any other failed authentication; successes are audited as `token.issued`. Bodies are form-encoded (or
/// JSON); errors follow RFC 6749 §5.2 (see `OAuthError`).
extension GatewayService {
    /// The paths served here.
    static let tokenPath = "/auth/token"
    static let revokePath = "/auth/revoke"
    /// The largest form body the endpoints read (a password grant is well under 1 KiB).
    static let tokenBodyLimit = 16 * 1024

    /// Serves one request to the token or revocation endpoint.
    func serveTokenEndpoint(
        _ request: HTTPRequest, path: String, auth: GatewayAuthentication, tokens: TokenIssuer,
        credentials: CredentialCache, _ exchange: Exchange, _ respond: @escaping @Sendable (HTTPResponse) -> Void
    ) {
        var exchange = exchange
        exchange.route = path
        guard request.method == "POST" else {
            var response = GatewayError.methodNotAllowed.response(requestID: exchange.requestID)
            response.headers.add("Allow", "POST")
            return finish(response, exchange, respond)
        }
        let parameters: OAuthParameters
        switch OAuthParameters.parse(request) {
        case .failure(let error): return finish(error.response(requestID: exchange.requestID), exchange, respond)
        case .success(let parsed): parameters = parsed
        }
        let grant = TokenGrant(
            request: request, parameters: parameters, auth: auth, tokens: tokens, credentials: credentials,
            exchange: exchange, respond: respond)
        // Password checks (argon2id) run on their own pool, fair among addresses, so a flood of them never
        // holds the workers that refresh grants, client credentials and key lookups need.
        if path == Self.tokenPath, parameters["grant_type"] == "password" {
            let admission = credentials.passwordChecks.submit(address: ClientKey.limitKey(exchange.client)) {
                [self] release in
                var checked = grant
                checked.respond = { response in
                    release()
                    grant.respond(response)
                }
                passwordGrant(checked)
            }
            switch admission {
            case .accepted: return
            case .addressBusy: return answer(grant, .loginInProgress)
            case .full: return answer(grant, .passwordChecksFull)
            }
        }
        let accepted = credentials.workers.submit { [self] in
            if path == Self.revokePath { return revoke(grant) }
            switch parameters["grant_type"] {
            case "refresh_token"?: refreshGrant(grant)
            case "client_credentials"?: clientCredentialsGrant(grant)
            case nil: answer(grant, .invalidRequest)
            default: answer(grant, .unsupportedGrantType)
            }
        }
        if !accepted { finish(OAuthError.busy.response(requestID: exchange.requestID), exchange, respond) }
    }

    /// One token request on its way through a worker.
    struct TokenGrant: Sendable {
        let request: HTTPRequest
        let parameters: OAuthParameters
        let auth: GatewayAuthentication
        let tokens: TokenIssuer
        let credentials: CredentialCache
        var exchange: Exchange
        var respond: @Sendable (HTTPResponse) -> Void

        var now: Int64 { credentials.clock.unixSeconds() }
    }

    /// Answers an error that is not a failed credential (a malformed request).
    func answer(_ grant: TokenGrant, _ error: OAuthError) {
        finish(error.response(requestID: grant.exchange.requestID), grant.exchange, grant.respond)
    }

    /// Counts, audits and reports a failed credential, then answers `error`.
    func refuse(
        _ grant: TokenGrant, _ error: OAuthError, reason: String, kind: FailureKind, account: String?,
        lockable: Bool = false
    ) {
        switch kind {
        case .missing: metrics.unauthorizedAccess.increment()
        case .guess, .stale: metrics.authFailures.increment()
        }
        record(.authFailure, outcome: .failure, grant.exchange, reason: reason)
        noteFailure(kind, grant.exchange, account: account, lockable: lockable)
        answer(grant, error)
    }

    /// `grant_type=password`: a person's name and password, verified with argon2id on this worker.
    private func passwordGrant(_ grant: TokenGrant) {
        guard let username = grant.parameters["username"], let password = grant.parameters["password"] else {
            return answer(grant, .invalidRequest)
        }
        // A locked account is refused before any hashing, whatever the password: a lock that let the right
        // password through would only slow the guessing down.
        if let remaining = accountLockRemainingSeconds(username) {
            let response = bannedResponse(remaining, grant.exchange, error: Self.accountLocked)
            return finish(response, grant.exchange, grant.respond)
        }
        var grant = grant
        let hasher = PasswordHasher()
        let user: UserRecord?
        do {
            user = try grant.credentials.store.user(named: username)
        } catch {
            return answer(grant, .serverError)
        }
        // Unknown, disabled, overlong: the same answer after the same work, so nothing tells them apart. A name no
        // user can have counts against the address alone: locking it would keep it (perhaps a password typed into
        // the name field) in the ban list, and let guessers fill the list with names of any length.
        guard let user, !user.disabled, password.utf8.count <= PasswordPolicy.maximumBytes else {
            hasher.verifyNothing(password)
            grant.credentials.passwordChecks.noteFailure(address: ClientKey.limitKey(grant.exchange.client))
            let account = UserRecord.isValidUsername(username) ? username : nil
            return refuse(grant, .invalidGrant, reason: "bad_password", kind: .guess, account: account, lockable: true)
        }
        grant.exchange.subject = user.username
        guard hasher.verify(password, against: user.passwordHash) else {
            grant.credentials.passwordChecks.noteFailure(address: ClientKey.limitKey(grant.exchange.client))
            return refuse(grant, .invalidGrant, reason: "bad_password", kind: .guess, account: username, lockable: true)
        }
        noteSuccess(account: username)
        guard let granted = requestedScopes(grant, held: user.scopes, roles: user.roles) else {
            return answer(grant, .invalidScope)
        }
        issue(
            grant, subject: user.username, roles: granted.roles, scopes: granted.scopes, withRefresh: true,
            how: "password")
    }

    /// `grant_type=client_credentials`: a service's API key as its client secret (HTTP Basic or the body).
    private func clientCredentialsGrant(_ grant: TokenGrant) {
        var grant = grant
        let client: (id: String, secret: String)
        switch grant.parameters.clientCredentials(grant.request.headers) {
        case .failure(let error): return refuse(grant, error, reason: "bad_client", kind: .guess, account: nil)
        case .success(nil):
            return refuse(grant, .invalidClient, reason: "missing_client", kind: .missing, account: nil)
        case .success(let found?): client = found
        }
        // The secret is the whole key, or its part after the id.
        let parsed = APIKeyFormat.parse(client.secret) ?? APIKeyFormat.parse(client.id + "_" + client.secret)
        guard let (id, secret) = parsed, client.id.isEmpty || client.id == id
        else { return refuse(grant, .invalidClient, reason: "malformed_key", kind: .guess, account: nil) }
        let record: APIKeyRecord?
        do {
            record = try grant.credentials.cachedKey(id: id) ?? grant.credentials.store.apiKey(id: id)
        } catch {
            return answer(grant, .serverError)
        }
        guard let record, grant.credentials.hasher.matches(secret, stored: record.secretHash) else {
            return refuse(grant, .invalidClient, reason: "bad_key_secret", kind: .guess, account: id)
        }
        grant.exchange.subject = record.name
        guard record.isUsable(at: grant.now) else {
            return refuse(grant, .invalidClient, reason: "unusable_key", kind: .stale, account: id)
        }
        guard let granted = requestedScopes(grant, held: record.scopes, roles: record.roles) else {
            return answer(grant, .invalidScope)
        }
        // The token names its key, so it dies with it (revoked, expired, past a rotation's grace).
        issue(
            grant, subject: record.name, roles: granted.roles, scopes: granted.scopes, withRefresh: false,
            how: "client_credentials", clientID: record.id)
    }

    /// What the token grants: `held` and `roles` as they are when the request names no `scope`, or asks for
    /// `*` (everything) while a role grants it; only the asked scopes, without roles, when it asks for fewer,
    /// so that a narrowed token cannot win back what it left out through role expansion (RFC 6749 §3.3).
    /// Nil when it asks for a scope that neither `held` nor the roles grant, or for none at all.
    func requestedScopes(
        _ grant: TokenGrant, held: [String], roles: [String]
    ) -> (scopes: [String], roles: [String])? {
        guard let text = grant.parameters["scope"] else { return (held, roles) }
        let granted = grant.auth.policy.scopes(forRoles: roles)
        var asked: [String] = []
        for scope in text.split(separator: " ").map(String.init) where !asked.contains(scope) { asked.append(scope) }
        guard !asked.isEmpty else { return nil }
        if asked.contains(AccessPolicy.everyScope) { return granted.all ? (held, roles) : nil }
        guard asked.allSatisfy({ granted.all || held.contains($0) || granted.scopes.contains($0) }) else { return nil }
        return (asked, [])
    }

    /// The RFC 6749 §5.1 `scope` answer: every scope the token grants, role expansion included; `*` first when a
    /// role grants every scope.
    func grantedScopeText(_ grant: TokenGrant, scopes: [String], roles: [String]) -> String {
        let granted = grant.auth.policy.scopes(forRoles: roles)
        var all = scopes
        for scope in granted.scopes where !all.contains(scope) { all.append(scope) }
        return ((granted.all ? [AccessPolicy.everyScope] : []) + all).joined(separator: " ")
    }

    /// Signs an access token (and starts a refresh-token family when asked) and answers RFC 6749 §5.1's JSON.
    func issue(
        _ grant: TokenGrant, subject: String, roles: [String], scopes: [String], withRefresh: Bool, how: String,
        refresh: String? = nil, accessTokenID: String? = nil, clientID: String? = nil
    ) {
        do {
            let access = try grant.tokens.access(
                subject: subject, roles: roles, scopes: scopes, tokenID: accessTokenID, clientID: clientID)
            var refreshToken = refresh
            if withRefresh && refresh == nil {
                let text = RefreshTokenFormat.generate()
                try grant.credentials.store.insertRefreshToken(
                    RefreshTokenRecord(
                        tokenHash: grant.credentials.hasher.hash(text),
                        familyID: Digest.hex(SecureRandom.bytes(count: 16)),
                        subject: subject, roles: roles, scopes: scopes, issuedAt: grant.now,
                        expiresAt: grant.now + grant.tokens.refreshLifetimeSeconds, accessTokenID: access.tokenID,
                        accessExpiresAt: access.expiresAt))
                refreshToken = text
            }
            record(.tokenIssued, outcome: .success, grant.exchange, reason: how)
            var body: [UInt8] = Array(#"{"access_token":"#.utf8)
            JSONEscaping.appendQuoted(access.token, to: &body)
            body += Array(#","token_type":"Bearer","expires_in":\#(grant.tokens.accessLifetimeSeconds)"#.utf8)
            if let refreshToken {
                body += Array(#","refresh_token":"#.utf8)
                JSONEscaping.appendQuoted(refreshToken, to: &body)
            }
            body += Array(#","scope":"#.utf8)
            JSONEscaping.appendQuoted(grantedScopeText(grant, scopes: scopes, roles: roles), to: &body)
            body.append(UInt8(ascii: "}"))
            let response = HTTPResponse(status: 200, headers: OAuthError.noStoreHeaders, body: body)
            finish(response, grant.exchange, grant.respond)
        } catch {
            answer(grant, .serverError)
        }
    }
}
