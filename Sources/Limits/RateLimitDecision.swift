/// The answer to one request: whether it may pass, and the numbers for the rate-limit headers.
///
/// The fields map onto `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` and
/// `Retry-After` (the last only when `allowed` is false).
public struct RateLimitDecision: Sendable, Hashable {
    /// Whether the request may pass.
    public let allowed: Bool
    /// The policy's capacity, `burst + 1`.
    public let limit: Int
    /// Requests the key could still send at this instant after this one; never negative, 0 when denied.
    public let remaining: Int
    /// Whole seconds, rounded up, until the key's allowance is full again; 0 only when already full.
    public let resetSeconds: Int
    /// Whole seconds, rounded up, until a request would be allowed; at least 1 when denied, 0 when allowed.
    public let retryAfterSeconds: Int

    /// Builds a decision; values are clamped so that the guarantees above hold.
    public init(allowed: Bool, limit: Int, remaining: Int, resetSeconds: Int, retryAfterSeconds: Int) {
        self.allowed = allowed
        self.limit = max(limit, 0)
        self.remaining = allowed ? max(remaining, 0) : 0
        self.resetSeconds = max(resetSeconds, 0)
        self.retryAfterSeconds = allowed ? 0 : max(retryAfterSeconds, 1)
    }
}
