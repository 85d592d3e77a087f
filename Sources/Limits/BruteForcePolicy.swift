/// When failed authentications ban an address, and for how long.
///
/// `maxFailures` failures from one address within `windowNanoseconds` ban the address for `baseBanSeconds`; as
/// many against one account lock the account (and ban only the addresses with a real share of them, see
/// `InMemoryAuthFailureTracker`). Every further ban of that address, or lock of that account, while it is
/// remembered (`offenseMemoryNanoseconds` since the last one) doubles the length, up to `maxBanSeconds`.
public struct BruteForcePolicy: Sendable, Equatable {
    public var maxFailures: Int
    public var windowNanoseconds: UInt64
    public var baseBanSeconds: Int
    public var maxBanSeconds: Int
    public var offenseMemoryNanoseconds: UInt64

    /// - Parameters:
    ///   - maxFailures: default 10 (`BRUTE_FORCE_MAX_FAILURES`).
    ///   - windowSeconds: default 300 (`BRUTE_FORCE_WINDOW_SECONDS`).
    ///   - baseBanSeconds: default 900 (`BRUTE_FORCE_BAN_SECONDS`).
    ///   - maxBanSeconds: default 86,400 (`BRUTE_FORCE_MAX_BAN_SECONDS`).
    ///   - offenseMemorySeconds: how long an address's past bans count towards the next; default 86,400.
    public init(
        maxFailures: Int = 10, windowSeconds: Int = 300, baseBanSeconds: Int = 900, maxBanSeconds: Int = 86_400,
        offenseMemorySeconds: Int = 86_400
    ) {
        precondition(maxFailures >= 1 && windowSeconds >= 1 && baseBanSeconds >= 1, "brute-force limits are positive")
        precondition(maxBanSeconds >= baseBanSeconds, "the longest ban is at least the first")
        self.maxFailures = maxFailures
        windowNanoseconds = UInt64(windowSeconds) * 1_000_000_000
        self.baseBanSeconds = baseBanSeconds
        self.maxBanSeconds = maxBanSeconds
        offenseMemoryNanoseconds = UInt64(offenseMemorySeconds) * 1_000_000_000
    }

    /// The length of an address's `offense`-th ban (1 for the first): doubling, capped.
    public func banSeconds(offense: Int) -> Int {
        var seconds = baseBanSeconds
        for _ in 1..<max(1, offense) {
            seconds = min(maxBanSeconds, seconds * 2)
            if seconds == maxBanSeconds { break }
        }
        return seconds
    }
}
