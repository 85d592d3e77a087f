import PortalCore
import Synchronization

/// Counts failed authentications per address and per account and decides bans and account locks; the state
/// behind `BruteForcePolicy`, in this process. Failures counted by every gateway together live in Redis
/// (`SharedAuthFailures`), beside this count, which decides alone while Redis cannot answer.
///
/// An address is banned for its own failures only: `maxFailures` of them in the window, or, when an account
/// reaches `maxFailures` failures from many addresses, at least `minAccountShare` of those. The account itself is
/// then locked, so that whoever arrives next (perhaps its owner, after one typo) is not banned in the attacker's
/// place.
public protocol AuthFailureTracker: Sendable {
    /// Records one failure from `address` (against `account`, when known) at `now` (monotonic nanoseconds).
    /// - Parameter limit: the failures that ban or lock, at most the policy's `maxFailures` (a gateway's share of
    ///   a limit its peers enforce together); nil: `maxFailures`.
    /// - Returns: the bans and the account lock now due (empty when none is).
    func recordFailure(address: String, account: String?, now: UInt64, limit: Int?) -> BruteForceVerdict
    /// Forgets `account`'s failures: it authenticated successfully, or an operator lifted its lock.
    func forgetFailures(account: String)
    /// Forgets `address`'s failures (after an operator lifted its ban); its past bans still count.
    func forgetFailures(address: String)
}

extension AuthFailureTracker {
    /// Records one failure and decides by the policy's `maxFailures`.
    public func recordFailure(address: String, account: String?, now: UInt64) -> BruteForceVerdict {
        recordFailure(address: address, account: account, now: now, limit: nil)
    }
}

/// What one failure earned: bans of addresses, and perhaps a lock of the account it was against.
public struct BruteForceVerdict: Sendable, Equatable {
    /// Addresses to ban, each with its ban.
    public var addressBans: [AddressBan] = []
    /// The lock of the account, when its failures from every address reached the limit.
    public var accountLock: BruteForceBan?

    public struct AddressBan: Sendable, Equatable {
        public let address: String
        public let ban: BruteForceBan
    }

    public init() {}

    /// Whether nothing is due.
    public var isEmpty: Bool { addressBans.isEmpty && accountLock == nil }
}

/// A ban that failures earned.
public struct BruteForceBan: Sendable, Equatable {
    /// How long, in seconds.
    public let seconds: Int
    /// Which ban of this address (or lock of this account) it is (1 for the first).
    public let offense: Int
    /// Why: the address, or the account, reached the limit.
    public let cause: Cause
    /// Failures counted in the window when the ban was decided.
    public let failures: Int

    public enum Cause: String, Sendable {
        case address
        case account
    }

    public init(seconds: Int, offense: Int, cause: Cause, failures: Int) {
        self.seconds = seconds
        self.offense = offense
        self.cause = cause
        self.failures = failures
    }
}

/// Failure windows in this process's memory, behind one `Mutex` (failures are rare next to requests).
///
/// Memory is bounded: at most `maxTrackedKeys` addresses and accounts are tracked; at the cap, stale entries
/// are swept, and if none is stale a new key is not tracked (the accounts already tracked still are).
public final class InMemoryAuthFailureTracker: AuthFailureTracker {
    private struct State {
        var addresses: [String: [UInt64]] = [:]
        var accounts: [String: [(at: UInt64, address: String)]] = [:]
        /// Past bans by address, and past locks by `account:` + name.
        var offenses: [String: (count: Int, lastBan: UInt64)] = [:]
    }

    /// The limits.
    public let policy: BruteForcePolicy
    private let maxTrackedKeys: Int
    /// The failures an address must have made against a locked account to be banned with it.
    public let minAccountShare: Int
    private let state = Mutex(State())

    /// - Parameters:
    ///   - policy: the limits.
    ///   - maxTrackedKeys: addresses plus accounts held at most; default 100,000.
    ///   - minAccountShare: the failures an address must have contributed to a locked account's window to be
    ///     banned with it; default 2 (one failure is a typo, two against the same account are a try).
    public init(policy: BruteForcePolicy, maxTrackedKeys: Int = 100_000, minAccountShare: Int = 2) {
        precondition(minAccountShare >= 1, "minAccountShare must be positive")
        self.policy = policy
        self.maxTrackedKeys = maxTrackedKeys
        self.minAccountShare = minAccountShare
    }

    public func recordFailure(address: String, account: String?, now: UInt64, limit: Int?) -> BruteForceVerdict {
        let policy = policy
        let cap = maxTrackedKeys
        let window = policy.windowNanoseconds
        // The newest `maxFailures` are kept whatever the limit, so that a call with the full limit still sees them.
        let limit = min(max(limit ?? policy.maxFailures, 1), policy.maxFailures)
        return state.withLock { state -> BruteForceVerdict in
            func fresh(_ at: UInt64) -> Bool { now &- at < window }
            // Only the newest `maxFailures` matter to a decision.
            func keepNewest<T>(_ times: inout [T]) {
                if times.count > policy.maxFailures { times.removeFirst(times.count - policy.maxFailures) }
            }
            func offense(_ key: String) -> Int {
                var offense = 1
                if let past = state.offenses[key], now &- past.lastBan < policy.offenseMemoryNanoseconds {
                    offense = past.count + 1
                } else if state.offenses.count >= cap {
                    state.offenses = state.offenses.filter { now &- $0.value.lastBan < policy.offenseMemoryNanoseconds }
                }
                state.offenses[key] = (offense, now)
                return offense
            }
            func decide(_ key: String, _ cause: BruteForceBan.Cause, failures: Int) -> BruteForceBan {
                let offense = offense(key)
                return BruteForceBan(
                    seconds: policy.banSeconds(offense: offense), offense: offense, cause: cause, failures: failures)
            }

            // The address's own window.
            var fromAddress = 0
            var times = (state.addresses[address] ?? []).filter(fresh)
            if state.addresses[address] != nil || state.addresses.count < cap
                || sweep(&state.addresses, cap: cap, isFresh: { $0.contains(where: fresh) })
            {
                times.append(now)
                keepNewest(&times)
                state.addresses[address] = times
                fromAddress = times.count
            }

            // The account's window remembers who failed, so that a lock bans only those who took part.
            var entries: [(at: UInt64, address: String)] = []
            if let account {
                entries = (state.accounts[account] ?? []).filter { fresh($0.at) }
                if state.accounts[account] != nil || state.accounts.count < cap
                    || sweep(&state.accounts, cap: cap, isFresh: { $0.contains { fresh($0.at) } })
                {
                    entries.append((now, address))
                    keepNewest(&entries)
                    state.accounts[account] = entries
                }
            }

            var verdict = BruteForceVerdict()
            if fromAddress >= limit {
                // The address's ban answers for its failures against the account too.
                state.addresses[address] = nil
                if let account { state.accounts[account]?.removeAll { $0.address == address } }
                let ban = decide(address, .address, failures: fromAddress)
                verdict.addressBans.append(.init(address: address, ban: ban))
                return verdict
            }
            guard let account, entries.count >= limit else { return verdict }

            // The account reached the limit: it is locked; only the addresses with a real share are banned.
            var shares: [String: Int] = [:]
            for entry in entries { shares[entry.address, default: 0] += 1 }
            for (guesser, share) in shares.sorted(by: { $0.key < $1.key }) where share >= minAccountShare {
                state.addresses[guesser] = nil
                verdict.addressBans.append(.init(address: guesser, ban: decide(guesser, .account, failures: share)))
            }
            state.accounts[account] = nil
            verdict.accountLock = decide("account:" + account, .account, failures: entries.count)
            return verdict
        }
    }

    public func forgetFailures(account: String) {
        _ = state.withLock { $0.accounts.removeValue(forKey: account) }
    }

    public func forgetFailures(address: String) {
        _ = state.withLock { $0.addresses.removeValue(forKey: address) }
    }

    /// Drops stale keys when `table` is at `cap`. - Returns: whether a new key fits.
    private func sweep<T>(_ table: inout [String: T], cap: Int, isFresh: (T) -> Bool) -> Bool {
        if table.count >= cap { table = table.filter { isFresh($0.value) } }
        return table.count < cap
    }
}
