import Net

/// A small per-loop cache of recent answers from a shared store, so that a lookup on the request path
/// usually costs no round trip. Loop thread only (kept in `EventLoop.local`), so it takes no lock.
///
/// Each entry carries the monotonic instant it stops being trusted. At `capacity` entries the cache is
/// emptied whole: simpler than LRU, and a full cache only costs round trips, never a wrong answer.
final class LoopLocalCache<Value> {
    private var entries: [String: (value: Value, until: UInt64)] = [:]
    private let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// The cached value for `key` if it is still trusted at `now`.
    func value(_ key: String, now: UInt64) -> Value? {
        guard let entry = entries[key] else { return nil }
        guard now < entry.until else {
            entries[key] = nil
            return nil
        }
        return entry.value
    }

    /// Keeps `value` for `key` until `until` (monotonic nanoseconds).
    func store(_ value: Value, for key: String, until: UInt64) {
        if entries.count >= capacity && entries[key] == nil { entries.removeAll(keepingCapacity: true) }
        entries[key] = (value, until)
    }

    /// Forgets `key`.
    func remove(_ key: String) {
        entries[key] = nil
    }
}

/// How long the shared stores trust a cached answer, and how many they keep per loop.
public struct SharedStoreCaching: Sendable, Hashable {
    /// How long a cached answer is trusted, in nanoseconds; default 1 s. Another gateway's ban or revocation
    /// is seen here within this time.
    public var ttlNanoseconds: UInt64
    /// Entries kept per loop; default 10,000.
    public var capacity: Int

    /// Caching with the documented defaults, each overridable.
    public init(ttlNanoseconds: UInt64 = 1_000_000_000, capacity: Int = 10_000) {
        precondition(capacity >= 1, "a cache holds at least one entry")
        self.ttlNanoseconds = ttlNanoseconds
        self.capacity = capacity
    }
}
