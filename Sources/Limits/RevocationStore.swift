import Net

/// Revoked token ids (`jti`) shared by every gateway, in Redis (`RedisRevocationStore`). The gateway consults
/// it through `SharedRevocations`, which mirrors its list in memory.
///
/// A revocation is kept until the token's own expiry (`exp`), after which the token is refused anyway, so
/// the store never grows past the tokens still alive. The request path never asks it: gateways mirror its list
/// (`snapshot`). Every call completes on the given loop's thread.
public protocol RevocationStore: Sendable {
    /// Revokes `tokenID` until `untilUnixSeconds` (the token's `exp`); a time already past stores nothing.
    func revoke(
        _ tokenID: String, untilUnixSeconds: Int64, on loop: EventLoop,
        completion: @escaping @Sendable (Result<Void, SharedStoreError>) -> Void)

    /// The live revocations (`value`: the token's `exp`) unless the store is still at `version` (for a mirror).
    func snapshot(
        ifChangedSince version: Int64, on loop: EventLoop,
        completion: @escaping @Sendable (Result<SharedSnapshot, SharedStoreError>) -> Void)
}
