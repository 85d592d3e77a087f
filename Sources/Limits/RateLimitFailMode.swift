/// What the gateway does while the shared limiter store (Redis) cannot answer.
public enum RateLimitFailMode: String, Sendable, CaseIterable {
    /// Let requests pass unlimited. Availability over protection: an outage opens the door.
    case open
    /// Refuse every request with 503. Protection over availability: an outage of Redis is an outage.
    case closed
    /// Limit in this process's memory to this instance's share of the limit (rate and capacity divided by
    /// the number of gateways). The default: the limit still holds, and nothing is refused that a
    /// healthy cluster would have allowed, as long as the load balancer spreads clients evenly.
    case local
}

/// This instance's share of a limit enforced by `count` gateways together: rate and capacity divided by
/// `count`, rounded down (at least 1 a minute and capacity 1), so the sum over all gateways never exceeds
/// the shared limit.
public func localShare(of policy: RateLimitPolicy, instances count: Int) -> RateLimitPolicy {
    guard count > 1 else { return policy }
    let rate = max(1, policy.requestsPerMinute / count)
    let capacity = max(1, policy.capacity / count)
    return RateLimitPolicy(requestsPerMinute: rate, burst: capacity - 1)
}
