import Audit
import HTTPCodec
import Limits

extension GatewayService {
    static let banned = GatewayError(429, "E9402", "too many failed authentications from this address; try later")
    static let accountLocked = GatewayError(
        429, "E9450", "too many failed logins for this account; it is locked for a while, try later")

    /// Seconds left on the ban of `client`'s address, or nil; memory only (with Redis, its mirror).
    func banRemainingSeconds(_ client: String) -> Int? {
        guard let bruteForce = auth?.bruteForce else { return nil }
        return bruteForce.bans.remainingSeconds(BruteForceGuard.key(for: client))
    }

    /// The answer to a banned address: 429 with `Retry-After`, counted, not audited (a banned attacker must not
    /// be able to fill the audit trail).
    func bannedResponse(
        _ remainingSeconds: Int, _ exchange: Exchange, error: GatewayError = banned
    ) -> HTTPResponse {
        auth?.bruteForce?.refused?.increment()
        var response = error.response(requestID: exchange.requestID)
        response.headers.replaceOrAdd("Retry-After", String(remainingSeconds))
        return response
    }

    /// Seconds left on the lock of the password account `username`, or nil.
    func accountLockRemainingSeconds(_ username: String) -> Int? {
        guard let bruteForce = auth?.bruteForce else { return nil }
        return bruteForce.bans.remainingSeconds(BruteForceGuard.key(forAccount: username))
    }

    /// Reports a successful password login: the account's failure window starts over (with Redis, on every
    /// gateway).
    func noteSuccess(account: String) {
        auth?.bruteForce?.forgetFailures(account: account)
    }

    /// Reports a failed authentication; a guess counts towards a ban of its address and, for a password
    /// account (`lockable`), a lock of the account. Each ban and lock is imposed and audited (`ban.added`) when due
    /// (with Redis, when the count every gateway shares answers, within a round trip; see `BruteForceGuard`);
    /// an address is never banned for failures that other addresses made against the same account.
    func noteFailure(_ kind: FailureKind, _ exchange: Exchange, account: String?, lockable: Bool = false) {
        guard kind == .guess, let bruteForce = auth?.bruteForce else { return }
        let address = BruteForceGuard.key(for: exchange.client)
        bruteForce.recordFailure(address: address, account: account, lockable: lockable) { [self] verdict in
            impose(verdict, bruteForce, exchange, account: account)
        }
    }

    /// Imposes each ban and the lock of `verdict` (on every gateway, with Redis), counts and audits them.
    private func impose(
        _ verdict: BruteForceVerdict, _ bruteForce: BruteForceGuard, _ exchange: Exchange, account: String?
    ) {
        for (address, ban) in verdict.addressBans.map({ ($0.address, $0.ban) }) {
            let reason = "\(ban.cause.rawValue)_failures:\(ban.failures);seconds:\(ban.seconds);offense:\(ban.offense)"
            bruteForce.bans.ban(address, forSeconds: ban.seconds, reason: reason)
            bruteForce.added?.increment()
            // The audit record names the banned address, which may be another guesser's than this request's.
            var record = Exchange(
                requestID: exchange.requestID, client: address, method: exchange.method,
                startNanoseconds: exchange.startNanoseconds)
            record.route = exchange.route
            record.subject = ban.cause == .account ? account : exchange.subject
            self.record(.banAdded, outcome: .denied, record, reason: reason)
        }
        guard let account, let lock = verdict.accountLock else { return }
        let reason = "account_lock:\(lock.failures);seconds:\(lock.seconds);offense:\(lock.offense)"
        bruteForce.bans.ban(BruteForceGuard.key(forAccount: account), forSeconds: lock.seconds, reason: reason)
        bruteForce.added?.increment()
        var record = exchange
        record.subject = account
        self.record(.banAdded, outcome: .denied, record, reason: reason)
    }
}
