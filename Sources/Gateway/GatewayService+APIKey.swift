import Auth
import Net
import Store

/// API keys: `spk_<id>_<secret>`, from `X-API-Key` or `Authorization: Bearer`.
///
/// The id finds the key (in memory, or in the store on a worker when the snapshot lacks it); the secret's keyed
/// hash is compared in constant time. A key that is revoked, expired or past its rotation grace is refused like
/// a wrong one (401 E9105), but only wrong secrets and unknown ids count as guesses.
extension GatewayService {
    func authenticateAPIKey(
        _ presented: String, auth: GatewayAuthentication, loop: EventLoop, _ exchange: Exchange,
        _ completion: @escaping AuthCompletion
    ) {
        guard let credentials = auth.credentials, let (id, secret) = APIKeyFormat.parse(presented) else {
            return fail(.invalidAPIKey, "malformed_key", .guess, exchange, completion)
        }
        if let record = credentials.cachedKey(id: id) {
            return checkKey(record, secret: secret, auth: auth, exchange, completion)
        }
        credentials.lookupKey(id: id) { [self] lookup in
            loop.execute { [self] in
                switch lookup {
                case .found(let record): checkKey(record, secret: secret, auth: auth, exchange, completion)
                case .missing: fail(.invalidAPIKey, "unknown_key", .guess, exchange, completion, account: id)
                case .unavailable: fail(.invalidAPIKey, "key_lookup_unavailable", .stale, exchange, completion)
                }
            }
        }
    }

    private func checkKey(
        _ record: APIKeyRecord, secret: String, auth: GatewayAuthentication, _ exchange: Exchange,
        _ completion: AuthCompletion
    ) {
        var exchange = exchange
        guard let credentials = auth.credentials, credentials.hasher.matches(secret, stored: record.secretHash) else {
            return fail(.invalidAPIKey, "bad_key_secret", .guess, exchange, completion, account: record.id)
        }
        exchange.subject = record.name
        guard record.isUsable(at: credentials.clock.unixSeconds()) else {
            let reason = record.revokedAt != nil ? "revoked_key" : "expired_key"
            return fail(.invalidAPIKey, reason, .stale, exchange, completion)
        }
        let identity = ConsumerIdentity(
            subject: record.name, roles: record.roles, scopes: record.scopes, method: .apiKey, policy: auth.policy,
            keyID: record.id)
        completion(.success(identity), exchange)
    }
}
