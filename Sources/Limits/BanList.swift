import PortalCore
import Synchronization

/// Keys (client addresses, consumers) that are refused outright until a moment on the monotonic clock.
///
/// In memory and `Sendable`; one `Mutex` guards the table, and an atomic count lets the common case
/// (no bans at all) skip the lock. Expired bans are dropped when met and by `purgeExpired()`. At most
/// `maxBans` bans are held (default 100,000); a new ban beyond that is refused (`ban` returns false)
/// rather than evicting a live one, which keeps an attacker from lifting others' bans by getting
/// banned many times.
public final class BanList: Sendable {
    /// One active ban, as listed for the admin API.
    public struct Entry: Sendable, Hashable {
        /// What is banned.
        public let key: String
        /// Why, in a few words chosen by the caller (never secret).
        public let reason: String
        /// When the ban ends, on the monotonic clock, in nanoseconds.
        public let untilMonotonicNanoseconds: UInt64
        /// Whole seconds left, rounded up; at least 1 for an active ban.
        public let remainingSeconds: Int
    }

    private struct Ban {
        var until: UInt64
        var reason: String
    }

    private let table = Mutex<[String: Ban]>([:])
    private let activeCount = Atomic<Int>(0)
    private let clock: any PortalClock
    private let maxBans: Int

    /// - Parameters:
    ///   - clock: the monotonic clock bans expire on.
    ///   - maxBans: the most bans held at once; default 100,000.
    public init(clock: any PortalClock, maxBans: Int = 100_000) {
        precondition(maxBans >= 1, "maxBans must be positive")
        self.clock = clock
        self.maxBans = maxBans
    }

    /// Bans `key` until `untilMonotonicNanoseconds`; a ban already there is extended, never shortened.
    ///
    /// - Returns: false when the list is full of live bans and `key` is not already banned.
    @discardableResult
    public func ban(_ key: String, untilMonotonicNanoseconds until: UInt64, reason: String) -> Bool {
        let now = clock.monotonicNanoseconds()
        guard until > now else { return true }
        return table.withLock { bans in
            if let existing = bans[key], existing.until > now {
                bans[key] = Ban(until: max(existing.until, until), reason: reason)
                return true
            }
            if bans.count >= maxBans {
                Self.dropExpired(&bans, now: now)
                guard bans.count < maxBans else { return false }
            }
            bans[key] = Ban(until: until, reason: reason)
            activeCount.store(bans.count, ordering: .relaxed)
            return true
        }
    }

    /// Bans `key` for `seconds` from now; see `ban(_:untilMonotonicNanoseconds:reason:)`.
    @discardableResult
    public func ban(_ key: String, forSeconds seconds: Int, reason: String) -> Bool {
        let now = clock.monotonicNanoseconds()
        let span = UInt64(max(seconds, 0)).multipliedReportingOverflow(by: 1_000_000_000)
        let (until, overflow) = now.addingReportingOverflow(span.overflow ? UInt64.max : span.partialValue)
        return ban(key, untilMonotonicNanoseconds: overflow ? UInt64.max : until, reason: reason)
    }

    /// Whole seconds (rounded up, at least 1) left on `key`'s ban at `now`, or nil when not banned.
    public func remainingSeconds(_ key: String, now: UInt64) -> Int? {
        guard activeCount.load(ordering: .relaxed) > 0 else { return nil }
        return table.withLock { bans -> Int? in
            guard let ban = bans[key] else { return nil }
            guard ban.until > now else {
                bans[key] = nil
                activeCount.store(bans.count, ordering: .relaxed)
                return nil
            }
            return GCRA.ceilSeconds(ban.until - now)
        }
    }

    /// `remainingSeconds(_:now:)` at the clock's current time.
    public func remainingSeconds(_ key: String) -> Int? {
        remainingSeconds(key, now: clock.monotonicNanoseconds())
    }

    /// Whether `key` is banned at the clock's current time.
    public func isBanned(_ key: String) -> Bool { remainingSeconds(key) != nil }

    /// Ends `key`'s ban. - Returns: whether a live ban was lifted.
    @discardableResult
    public func lift(_ key: String) -> Bool {
        let now = clock.monotonicNanoseconds()
        return table.withLock { bans in
            guard let ban = bans.removeValue(forKey: key) else { return false }
            activeCount.store(bans.count, ordering: .relaxed)
            return ban.until > now
        }
    }

    /// The live bans, sorted by key.
    public func list() -> [Entry] {
        let now = clock.monotonicNanoseconds()
        let entries = table.withLock { bans in
            bans.compactMap { key, ban -> Entry? in
                guard ban.until > now else { return nil }
                let left = GCRA.ceilSeconds(ban.until - now)
                return Entry(key: key, reason: ban.reason, untilMonotonicNanoseconds: ban.until, remainingSeconds: left)
            }
        }
        return entries.sorted { $0.key < $1.key }
    }

    /// Live bans now; for the active-bans gauge. Drops expired ones on the way.
    public var activeBanCount: Int {
        purgeExpired()
        return activeCount.load(ordering: .relaxed)
    }

    /// Replaces the bans with `entries` (key, milliseconds left; reason `shared`), keeping the live bans of
    /// `keep` as they are. For a mirror of a shared store; at most `maxBans` are held.
    public func replace(with entries: [(key: String, value: Int64)], keeping keep: Set<String>) {
        let now = clock.monotonicNanoseconds()
        table.withLock { bans in
            var fresh: [String: Ban] = [:]
            fresh.reserveCapacity(min(entries.count + keep.count, maxBans))
            for key in keep {
                if let ban = bans[key], ban.until > now { fresh[key] = ban }
            }
            for (key, milliseconds) in entries where milliseconds > 0 && fresh.count < maxBans {
                let until = now &+ UInt64(milliseconds) &* 1_000_000
                if let kept = fresh[key], kept.until >= until { continue }
                fresh[key] = Ban(until: until, reason: "shared")
            }
            bans = fresh
            activeCount.store(bans.count, ordering: .relaxed)
        }
    }

    /// Forgets every expired ban.
    public func purgeExpired() {
        let now = clock.monotonicNanoseconds()
        table.withLock { bans in
            Self.dropExpired(&bans, now: now)
            activeCount.store(bans.count, ordering: .relaxed)
        }
    }

    private static func dropExpired(_ bans: inout [String: Ban], now: UInt64) {
        bans = bans.filter { $0.value.until > now }
    }
}
