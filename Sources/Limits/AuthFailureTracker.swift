import PortalCore
import Synchronization

/// Counts failed authentications per address and per account and decides bans; the state behind
/// `BruteForcePolicy`. A shared implementation (Redis) can stand in for `InMemoryAuthFailureTracker`.
public protocol AuthFailureTracker: Sendable {
    /// Records one failure from `address` (against `account`, when known) at `now` (monotonic nanoseconds).
    /// - Returns: the ban to impose on `address`, or nil when none is due.
    func recordFailure(address: String, account: String?, now: UInt64) -> BruteForceBan?
    /// Forgets `address`'s failures (after an operator lifted its ban); its past bans still count.
    func forgetFailures(address: String)
}

/// A ban that failures earned.
public struct BruteForceBan: Sendable, Equatable {
    /// How long, in seconds.
    public let seconds: Int
    /// Which ban of this address it is (1 for the first).
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
        var accounts: [String: [UInt64]] = [:]
        var offenses: [String: (count: Int, lastBan: UInt64)] = [:]
    }

    private let policy: BruteForcePolicy
    private let maxTrackedKeys: Int
    private let state = Mutex(State())

    /// - Parameters:
    ///   - policy: the limits.
    ///   - maxTrackedKeys: addresses plus accounts held at most; default 100,000.
    public init(policy: BruteForcePolicy, maxTrackedKeys: Int = 100_000) {
        self.policy = policy
        self.maxTrackedKeys = maxTrackedKeys
    }

    public func recordFailure(address: String, account: String?, now: UInt64) -> BruteForceBan? {
        let policy = policy
        let cap = maxTrackedKeys
        return state.withLock { state -> BruteForceBan? in
            func note(_ table: inout [String: [UInt64]], _ key: String) -> Int {
                var times = (table[key] ?? []).filter { now &- $0 < policy.windowNanoseconds }
                if table[key] == nil && table.count >= cap {
                    table = table.filter { entry in entry.value.contains { now &- $0 < policy.windowNanoseconds } }
                    guard table.count < cap else { return 0 }
                }
                times.append(now)
                // Only the newest `maxFailures` matter to the decision.
                if times.count > policy.maxFailures { times.removeFirst(times.count - policy.maxFailures) }
                table[key] = times
                return times.count
            }
            let fromAddress = note(&state.addresses, address)
            let againstAccount = account.map { note(&state.accounts, $0) } ?? 0
            guard fromAddress >= policy.maxFailures || againstAccount >= policy.maxFailures else { return nil }
            var offense = 1
            if let past = state.offenses[address], now &- past.lastBan < policy.offenseMemoryNanoseconds {
                offense = past.count + 1
            } else if state.offenses.count >= cap {
                state.offenses = state.offenses.filter { now &- $0.value.lastBan < policy.offenseMemoryNanoseconds }
            }
            state.offenses[address] = (offense, now)
            state.addresses[address] = nil
            let cause: BruteForceBan.Cause = fromAddress >= policy.maxFailures ? .address : .account
            return BruteForceBan(
                seconds: policy.banSeconds(offense: offense), offense: offense, cause: cause,
                failures: cause == .address ? fromAddress : againstAccount)
        }
    }

    public func forgetFailures(address: String) {
        _ = state.withLock { $0.addresses.removeValue(forKey: address) }
    }
}
