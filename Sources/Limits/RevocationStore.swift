import Net

/// Revoked token ids (`jti`) shared by every gateway, in Redis (`RedisRevocationStore`). The gateway consults
/// it through `SharedRevocations`, which adds this process's own list for when the store cannot answer.
///
/// A revocation is kept until the token's own expiry (`exp`), after which the token is refused anyway, so
/// the store never grows past the tokens still alive. As with bans: call `cachedIsRevoked` first and
/// `isRevoked` only when it returns nil. Every call completes on the given loop's thread.
public protocol RevocationStore: Sendable {
    /// Revokes `tokenID` until `untilUnixSeconds` (the token's `exp`); a time already past stores nothing.
    func revoke(
        _ tokenID: String, untilUnixSeconds: Int64, on loop: EventLoop,
        completion: @escaping @Sendable (Result<Void, SharedStoreError>) -> Void)

    /// The answer from this loop's cache, or nil when it must be looked up with `isRevoked`. Loop thread only.
    func cachedIsRevoked(_ tokenID: String, on loop: EventLoop) -> Bool?

    /// The live revocations (`value`: the token's `exp`) unless the store is still at `version` (for a mirror).
    func snapshot(
        ifChangedSince version: Int64, on loop: EventLoop,
        completion: @escaping @Sendable (Result<SharedSnapshot, SharedStoreError>) -> Void)

    /// Looks `tokenID` up in the store (and refreshes this loop's cache).
    func isRevoked(
        _ tokenID: String, on loop: EventLoop, completion: @escaping @Sendable (Result<Bool, SharedStoreError>) -> Void)
}
