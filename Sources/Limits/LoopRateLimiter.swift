import Net

/// What the gateway's limit step is told about one request.
public enum RateLimitVerdict: Sendable, Hashable {
    /// A decision, from the shared store or from this instance's local share of the limit.
    case decided(RateLimitDecision)
    /// The shared store could not answer and the fail mode is `open`: pass, unlimited, without rate-limit headers.
    case unlimited
    /// The shared store could not answer and the fail mode is `closed`: refuse with 503.
    case unavailable
}

/// A rate limiter as the gateway calls it, on the request's event loop.
///
/// Two calls, so that the in-memory limiter costs no allocation: `decideWithoutWaiting` answers at once when
/// no I/O is needed (always in memory; with Redis while its circuit is open). When it returns nil the
/// limiter has committed to a backend call, and the caller must call `decide(key:policy:on:completion:)`
/// exactly once, right away, for the same request.
public protocol LoopRateLimiter: Sendable {
    /// The verdict now, or nil when it needs a round trip (then call `decide`).
    func decideWithoutWaiting(key: String, policy: RateLimitPolicy) -> RateLimitVerdict?

    /// Decides with a round trip; `completion` runs once, on `loop`'s thread.
    func decide(
        key: String, policy: RateLimitPolicy, on loop: EventLoop,
        completion: @escaping @Sendable (RateLimitVerdict) -> Void)
}

extension InMemoryRateLimiter: LoopRateLimiter {
    /// Always a decision: memory needs no round trip.
    public func decideWithoutWaiting(key: String, policy: RateLimitPolicy) -> RateLimitVerdict? {
        .decided(decide(key: key, policy: policy))
    }

    /// Decides at once and calls `completion` before returning.
    public func decide(
        key: String, policy: RateLimitPolicy, on loop: EventLoop,
        completion: @escaping @Sendable (RateLimitVerdict) -> Void
    ) {
        completion(.decided(decide(key: key, policy: policy)))
    }
}
