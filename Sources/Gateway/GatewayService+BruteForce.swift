import Audit
import HTTPCodec
import Limits

extension GatewayService {
    static let banned = GatewayError(429, "E9402", "too many failed authentications from this address; try later")

    /// Seconds left on the ban of `client`'s address, or nil; memory only (with Redis, its mirror).
    func banRemainingSeconds(_ client: String) -> Int? {
        guard let bruteForce = auth?.bruteForce else { return nil }
        return bruteForce.bans.remainingSeconds(BruteForceGuard.key(for: client))
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
