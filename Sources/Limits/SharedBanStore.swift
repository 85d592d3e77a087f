import Net

/// Whether a key is banned, as a store answers it.
public struct BanStatus: Sendable, Hashable {
    /// Whole seconds (rounded up, at least 1) left on the ban; nil when not banned.
    public let remainingSeconds: Int?

    /// Not banned.
    public static let notBanned = BanStatus(remainingSeconds: nil)

    public init(remainingSeconds: Int?) {
        self.remainingSeconds = remainingSeconds
    }

    /// Whether the key is banned.
    public var isBanned: Bool { remainingSeconds != nil }
}

/// Bans (client addresses, consumers) shared by every gateway, in Redis (`RedisBanStore`). The gateway consults
/// it through `SharedBans`, which adds this process's own list for when the store cannot answer.
///
/// Lookups are cached per loop for a short time, so the request path usually costs no round trip: call
/// `cachedStatus` first, and `status` only when it returns nil. A ban is extended, never shortened, by a
/// later ban of the same key. Every call completes on the given loop's thread.
public protocol SharedBanStore: Sendable {
    /// Bans `key` for `seconds` (at least 1) with a short `reason` (never secret).
    func ban(
        _ key: String, forSeconds seconds: Int, reason: String, on loop: EventLoop,
        completion: @escaping @Sendable (Result<Void, SharedStoreError>) -> Void)

    /// Lifts `key`'s ban; the result says whether there was one.
    func lift(
        _ key: String, on loop: EventLoop, completion: @escaping @Sendable (Result<Bool, SharedStoreError>) -> Void)

    /// The answer from this loop's cache, or nil when it must be looked up with `status`. Loop thread only.
    func cachedStatus(_ key: String, on loop: EventLoop) -> BanStatus?

    /// Looks `key` up in the store (and refreshes this loop's cache).
    func status(
        _ key: String, on loop: EventLoop, completion: @escaping @Sendable (Result<BanStatus, SharedStoreError>) -> Void
    )

    /// The live bans (`value`: milliseconds left) unless the store is still at `version` (for a mirror).
    func snapshot(
        ifChangedSince version: Int64, on loop: EventLoop,
        completion: @escaping @Sendable (Result<SharedSnapshot, SharedStoreError>) -> Void)

    /// The live bans, sorted by key (for the admin API).
    func list(on loop: EventLoop, completion: @escaping @Sendable (Result<[BanList.Entry], SharedStoreError>) -> Void)
}
