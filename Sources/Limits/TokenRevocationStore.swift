/// Revoked token ids (`jti`), checked on every request that presents a token.
///
/// Contract, so that a shared implementation (Redis) can stand in for `InMemoryRevocationList`:
/// - `isRevoked` is called on event-loop threads for every token: it must answer from memory without blocking
///   (a shared store keeps a local mirror, updated in the background).
/// - `revoke` may block (a network write); it is called off the event loops. A revocation lasts until
///   `untilUnixSeconds`, the token's own `exp`, after which the token is refused anyway and the entry may go.
/// - `replaceAll` loads the durable list (from the credential store) at start and on each refresh; entries
///   revoked locally in between must survive it.
public protocol TokenRevocationStore: Sendable {
    /// Whether `tokenID` is revoked now. Never blocks.
    func isRevoked(_ tokenID: String) -> Bool
    /// Records that `tokenID` is revoked until `untilUnixSeconds`.
    func revoke(_ tokenID: String, untilUnixSeconds: Int64) throws
    /// Adds every `(tokenID, untilUnixSeconds)` of a durable list and forgets entries past their end.
    func merge(_ entries: [(tokenID: String, untilUnixSeconds: Int64)]) throws
    /// Revocations held now (for a gauge).
    var count: Int { get }
}
