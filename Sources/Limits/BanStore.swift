/// Where bans live: in this process (`BanList`) or shared by every gateway (a Redis implementation).
///
/// Contract:
/// - `remainingSeconds` runs on event-loop threads for every request, before anything else: it must answer
///   from memory without blocking (a shared store keeps a local mirror, updated in the background) and cost
///   next to nothing when there are no bans.
/// - `ban`, `lift` and `list` may block on a network store; they are called off the request path's hot part
///   (after a failed authentication, from the admin API) and should be quick.
/// - A ban is extended, never shortened, by a later `ban` of the same key.
public protocol BanStore: Sendable {
    /// Whole seconds left (at least 1) on `key`'s ban, or nil when it is not banned.
    func remainingSeconds(_ key: String) -> Int?
    /// Bans `key` for `seconds`. - Returns: false when the store is full and could not add it.
    @discardableResult
    func ban(_ key: String, forSeconds seconds: Int, reason: String) -> Bool
    /// Ends `key`'s ban. - Returns: whether a live ban was lifted.
    @discardableResult
    func lift(_ key: String) -> Bool
    /// The live bans, sorted by key.
    func list() -> [BanList.Entry]
    /// Live bans now (the `bans_active` gauge).
    var activeBanCount: Int { get }
}

extension BanList: BanStore {}
