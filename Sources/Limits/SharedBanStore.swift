import Net

/// Bans (client addresses, consumers) shared by every gateway, in Redis (`RedisBanStore`). The gateway consults
/// it through `SharedBans`, which mirrors its list in memory.
///
/// The request path never asks it: gateways mirror its list (`snapshot`). A ban is extended, never shortened,
/// by a later ban of the same key. Every call completes on the given loop's thread.
public protocol SharedBanStore: Sendable {
    /// Bans `key` for `seconds` (at least 1) with a short `reason` (never secret).
    func ban(
        _ key: String, forSeconds seconds: Int, reason: String, on loop: EventLoop,
        completion: @escaping @Sendable (Result<Void, SharedStoreError>) -> Void)

    /// Lifts `key`'s ban; the result says whether there was one.
    func lift(
        _ key: String, on loop: EventLoop, completion: @escaping @Sendable (Result<Bool, SharedStoreError>) -> Void)

    /// The live bans (`value`: milliseconds left) unless the store is still at `version` (for a mirror).
    func snapshot(
        ifChangedSince version: Int64, on loop: EventLoop,
        completion: @escaping @Sendable (Result<SharedSnapshot, SharedStoreError>) -> Void)

    /// The live bans, sorted by key (for the admin API).
    func list(on loop: EventLoop, completion: @escaping @Sendable (Result<[BanList.Entry], SharedStoreError>) -> Void)
}
