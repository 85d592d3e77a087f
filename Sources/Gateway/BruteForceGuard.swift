import Limits
import PortalCore
import Telemetry

/// Brute-force protection: failed authentications that look like guesses are counted per address and per
/// account (`AuthFailureTracker`, and with Redis `SharedAuthFailures`, every gateway's together); past the limit
/// the address is banned (`SharedBans`: this process, or every gateway through Redis) for a time that doubles on
/// repeat. A banned address is refused before any other step, so its requests cost one memory read (with Redis,
/// of this gateway's mirror) and slow nobody else.
///
/// When one account collects the failures of many addresses, the account is locked instead (key
/// `account:<name>` in the same list, shared the same way): its password grants answer 429 E9450 while the lock
/// lasts, whoever asks; only the addresses that made at least two of those failures are banned.
///
/// Metrics: `bans_active` (gauge: banned addresses plus locked accounts), `bans_added_total`,
/// `banned_requests_total`. Bans and locks are audited as `ban.added`.
public final class BruteForceGuard: Sendable {
    /// The bans, consulted on every request.
    public let bans: SharedBans
    let tracker: any AuthFailureTracker
    let shared: SharedAuthFailures?
    let clock: any PortalClock
    let added: Counter.Child?
    let refused: Counter.Child?

    /// - Parameters:
    ///   - bans: where bans live (this process, or shared).
    ///   - tracker: where this gateway counts failures; it decides alone without `shared`.
    ///   - shared: where every gateway counts them together (Redis); nil: this gateway's count decides.
    ///   - clock: monotonic time for windows.
    ///   - registry: registers the metrics when given.
    public init(
        bans: SharedBans, tracker: any AuthFailureTracker, shared: SharedAuthFailures? = nil,
        clock: any PortalClock = SystemClock(), registry: MetricsRegistry? = nil
    ) {
        self.bans = bans
        self.tracker = tracker
        self.shared = shared
        self.clock = clock
        added = registry?.counter("bans_added_total", help: "Addresses banned for failed authentications.").labels([])
        refused = registry?.counter("banned_requests_total", help: "Requests refused because their address is banned.")
            .labels([])
        registry?.gauge("bans_active", help: "Addresses banned and accounts locked now.") { [bans] in
            Double(bans.activeBanCount)
        }
    }

    /// The key an address is counted and banned under: itself for IPv4, its /64 for IPv6 (one subscriber).
    static func key(for client: String) -> String { ClientKey.limitKey(client) }

    /// The prefix of a locked account's key in the ban list (`account:alice`), which no address can have.
    public static let accountPrefix = "account:"

    /// The key a password account is locked under.
    static func key(forAccount username: String) -> String { accountPrefix + username }

    /// Counts one failure from `address` (against `account`, when known) and calls `impose` once with the bans
    /// and the lock it earned (the lock only for a `lockable` account), perhaps none. Never waits for Redis.
    ///
    /// Without a shared count, this gateway's own count decides at once. With one, the failure goes to Redis,
    /// and until Redis answers whatever the own count would decide alone is held here (in this gateway's list
    /// only, neither shared nor audited), so that a guesser who crossed the limit here is refused at once. The
    /// answer, which counted every gateway's failures, then decides: its bans are imposed, the holds it did not
    /// confirm are lifted. A ban of the address or a lock of the account that another gateway made and this
    /// gateway's mirror has not seen yet is put in force here at once for what is left of it (this list only:
    /// neither shared, counted nor audited again), so the next request is refused rather than checked. When
    /// Redis cannot answer, the own count decides: by `maxFailures` for a call that failed, by the fail mode's
    /// `fallbackLimit` while the circuit is open.
    func recordFailure(
        address: String, account: String?, lockable: Bool, impose: @escaping @Sendable (BruteForceVerdict) -> Void
    ) {
        let now = clock.monotonicNanoseconds()
        let tracker = tracker
        func own(limit: Int? = nil) -> BruteForceVerdict {
            var verdict = tracker.recordFailure(address: address, account: account, now: now, limit: limit)
            if !lockable { verdict.accountLock = nil }
            return verdict
        }
        guard let shared else { return impose(own()) }
        guard shared.allowsRequest() else { return impose(own(limit: shared.fallbackLimit)) }

        let local = own()
        let held = hold(local, account: account)
        let lockKey = lockable ? account.map(Self.key(forAccount:)) : nil
        shared.record(address: address, account: account, lockKey: lockKey) { [bans, clock] result in
            guard case .success(let answer) = result else { return impose(local) }
            // The own count starts over where the shared one did, as it would have on its own decision.
            var verdict = answer.verdict
            for ban in verdict.addressBans { tracker.forgetFailures(address: ban.address) }
            if verdict.accountLock != nil, let account { tracker.forgetFailures(account: account) }
            if !lockable { verdict.accountLock = nil }

            // Bans in Redis that the mirror has not fetched yet: in force here from now, for what is left of them.
            var mirrored: [(key: String, milliseconds: Int64)] = []
            if answer.addressBanMilliseconds > 0 {
                tracker.forgetFailures(address: address)
                mirrored.append((address, answer.addressBanMilliseconds))
            }
            if let lockKey, let account, answer.accountLockMilliseconds > 0 {
                tracker.forgetFailures(account: account)
                mirrored.append((lockKey, answer.accountLockMilliseconds))
            }

            var confirmed = Set(verdict.addressBans.map(\.address))
            if verdict.accountLock != nil, let account { confirmed.insert(Self.key(forAccount: account)) }
            // A hold the shared list keeps is replaced below, never lifted first: no request slips in between.
            confirmed.formUnion(mirrored.map(\.key))
            for key in held where !confirmed.contains(key) { bans.local.lift(key) }
            let now = clock.monotonicNanoseconds()
            for (key, milliseconds) in mirrored {
                // As the mirror does (`BanList.replace`): a ban lasts at most a year, far from overflowing.
                let until = now &+ UInt64(milliseconds) &* 1_000_000
                bans.local.ban(key, untilMonotonicNanoseconds: until, reason: "shared")
            }
            impose(verdict)
        }
    }

    /// Puts `verdict`'s bans and lock in force in this gateway's list alone, until the shared count decides.
    /// - Returns: the keys held that were not banned already: the ones to lift if the shared count disagrees.
    private func hold(_ verdict: BruteForceVerdict, account: String?) -> [String] {
        var due = verdict.addressBans.map { (key: $0.address, seconds: $0.ban.seconds) }
        if let lock = verdict.accountLock, let account {
            due.append((Self.key(forAccount: account), lock.seconds))
        }
        return due.compactMap { key, seconds in
            guard bans.local.remainingSeconds(key) == nil else { return nil }
            bans.local.ban(key, forSeconds: seconds, reason: "pending")
            return key
        }
    }

    /// Forgets `account`'s failures here and, with Redis, everywhere: it logged in, or an operator lifted its lock.
    func forgetFailures(account: String) {
        tracker.forgetFailures(account: account)
        shared?.forget(account: account)
    }

    /// Forgets `address`'s failures here and, with Redis, everywhere: an operator lifted its ban.
    func forgetFailures(address: String) {
        tracker.forgetFailures(address: address)
        shared?.forget(address: address)
    }
}
