/// A limiter store that decides synchronously, in this process (`InMemoryRateLimiter`).
///
/// The gateway asks through `LoopRateLimiter`, which a store in Redis (`RedisRateLimitStore` behind
/// `SharedRateLimiter`) implements with a round trip on the request's event loop.
///
/// A store that can fail (a network store) throws; whether the gateway then lets the request pass
/// (fail open) or refuses it (fail closed) is the gateway's explicit setting, never the store's.
public protocol RateLimitStore: Sendable {
    /// Decides one request for `key` under `policy` and records it when allowed.
    ///
    /// - Parameters:
    ///   - key: who is limited, e.g. a client address or a consumer id.
    ///   - policy: the rate and burst to apply.
    ///   - now: monotonic nanoseconds (`PortalClock.monotonicNanoseconds()`); a shared store may use
    ///     its own clock instead and document so.
    /// - Returns: the decision and the numbers for the rate-limit headers.
    /// - Throws: only when the store itself cannot answer.
    func decide(key: String, policy: RateLimitPolicy, now: UInt64) throws -> RateLimitDecision
}
