import Limits
import PortalCore
import Telemetry

/// Brute-force protection: failed authentications that look like guesses are counted per address and per
/// account (`AuthFailureTracker`); past the limit the address is banned (`SharedBans`: this process, or every
/// gateway through Redis) for a time that doubles on repeat. A banned address is refused before any other step,
/// so its requests cost one memory read (with Redis, of this gateway's mirror) and slow nobody else. Failure counts
/// stay per gateway; bans are what is shared.
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
    let clock: any PortalClock
    let added: Counter.Child?
    let refused: Counter.Child?

    /// - Parameters:
    ///   - bans: where bans live (this process, or shared).
    ///   - tracker: where failures are counted.
    ///   - clock: monotonic time for windows.
    ///   - registry: registers the metrics when given.
    public init(
        bans: SharedBans, tracker: any AuthFailureTracker, clock: any PortalClock = SystemClock(),
        registry: MetricsRegistry? = nil
    ) {
        self.bans = bans
        self.tracker = tracker
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
}
