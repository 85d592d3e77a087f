import PortalCore
import Synchronization

/// Revoked token ids in this process's memory: a set behind one `Mutex`, with an atomic count so that the
/// common case, no revocation at all, takes no lock. Entries leave once their token would be refused anyway:
/// when its `exp` plus the verifier's leeway has passed (a verifier still accepts a token up to `leewaySeconds`
/// after `exp`, so forgetting it at `exp` would make a revoked token usable again).
///
/// It is the whole list without Redis, and this gateway's own layer under `SharedRevocations` with it.
public final class InMemoryRevocationList: Sendable {
    private let entries = Mutex<[String: Int64]>([:])
    private let held = Atomic<Int>(0)
    private let clock: any PortalClock
    /// How long after its token's `exp` an entry stays, in seconds: the verifier's leeway (`JWT_LEEWAY`).
    public let leewaySeconds: Int64

    /// - Parameters:
    ///   - clock: the wall clock that decides when an entry's token has expired.
    ///   - leewaySeconds: the verifier's leeway on `exp`; default 60, as `JWTVerifier.Configuration`'s.
    public init(clock: any PortalClock = SystemClock(), leewaySeconds: Int64 = 60) {
        precondition(leewaySeconds >= 0, "leewaySeconds must not be negative")
        self.clock = clock
        self.leewaySeconds = leewaySeconds
    }

    /// Whether `tokenID` is revoked. Never blocks on I/O; takes no lock while the list is empty.
    public func isRevoked(_ tokenID: String) -> Bool {
        guard held.load(ordering: .relaxed) > 0 else { return false }
        return entries.withLock { $0[tokenID] != nil }
    }

    /// Records that `tokenID` is revoked until `untilUnixSeconds` (its token's `exp`).
    public func revoke(_ tokenID: String, untilUnixSeconds: Int64) {
        entries.withLock { table in
            table[tokenID] = max(table[tokenID] ?? untilUnixSeconds, untilUnixSeconds)
            held.store(table.count, ordering: .relaxed)
        }
    }

    /// Adds every `(tokenID, untilUnixSeconds)` of a durable list and forgets entries whose token `exp` and the
    /// leeway are behind.
    public func merge(_ list: [(tokenID: String, untilUnixSeconds: Int64)]) {
        // Tokens with an `exp` after this may still be accepted.
        let acceptedAfter = clock.unixSeconds() - leewaySeconds
        entries.withLock { table in
            for (tokenID, until) in list where until > acceptedAfter {
                table[tokenID] = max(table[tokenID] ?? until, until)
            }
            table = table.filter { $0.value > acceptedAfter }
            held.store(table.count, ordering: .relaxed)
        }
    }

    /// Revocations held now (for a gauge).
    public var count: Int { held.load(ordering: .relaxed) }
}
