import Audit
import HTTPCodec
import Limits
import Net

extension GatewayService {
    static let banned = GatewayError(429, "E9402", "too many failed authentications from this address; try later")

    /// Whether `client`'s address is banned, from memory (or the shared store's loop cache); nil when only
    /// `lookUpBan` can tell. Loop thread only; allocates nothing when no ban is held.
    func cachedBan(_ client: String, on loop: EventLoop) -> BanStatus? {
        guard let bans = auth?.bruteForce?.bans else { return .notBanned }
        return bans.cachedStatus(BruteForceGuard.key(for: client), on: loop)
    }

    /// Looks `client`'s address up in the shared ban store; `then` gets the seconds left, or nil, on `loop`.
    func lookUpBan(_ client: String, on loop: EventLoop, then: @escaping @Sendable (Int?) -> Void) {
        guard let bans = auth?.bruteForce?.bans else { return then(nil) }
        bans.status(BruteForceGuard.key(for: client), on: loop) { status in then(status.remainingSeconds) }
    }

    /// `cachedBan`, else `lookUpBan`: `then` gets the seconds left, or nil (at once when known).
    func checkBan(_ client: String, on loop: EventLoop, then: @escaping @Sendable (Int?) -> Void) {
        guard let status = cachedBan(client, on: loop) else { return lookUpBan(client, on: loop, then: then) }
        then(status.remainingSeconds)
    }

    /// The answer to a banned address: 429 with `Retry-After`, counted, not audited (a banned attacker must not
    /// be able to fill the audit trail).
    func bannedResponse(_ remainingSeconds: Int, _ exchange: Exchange) -> HTTPResponse {
        auth?.bruteForce?.refused?.increment()
        var response = Self.banned.response(requestID: exchange.requestID)
        response.headers.replaceOrAdd("Retry-After", String(remainingSeconds))
        return response
    }

    /// Reports a failed authentication; a guess counts towards a ban of the address, which is imposed and
    /// audited (`ban.added`) when due.
    func noteFailure(_ kind: FailureKind, _ exchange: Exchange, account: String?) {
        guard kind == .guess, let bruteForce = auth?.bruteForce else { return }
        let key = BruteForceGuard.key(for: exchange.client)
        let now = bruteForce.clock.monotonicNanoseconds()
        guard let ban = bruteForce.tracker.recordFailure(address: key, account: account, now: now) else { return }
        let reason = "\(ban.cause.rawValue)_failures:\(ban.failures);seconds:\(ban.seconds);offense:\(ban.offense)"
        bruteForce.bans.ban(key, forSeconds: ban.seconds, reason: reason)
        bruteForce.added?.increment()
        var record = exchange
        record.subject = ban.cause == .account ? account : exchange.subject
        self.record(.banAdded, outcome: .denied, record, reason: reason)
    }
}
