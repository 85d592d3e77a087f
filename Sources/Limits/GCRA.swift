/// The generic cell rate algorithm as a pure function of (stored state, now, policy).
///
/// GCRA was chosen over a token bucket because its whole per-key state is one number, the
/// *theoretical arrival time* (TAT): the instant at which the key's allowance is full again. One
/// integer is cheap to keep in memory, maps onto one Redis value with an atomic script, and needs no
/// periodic refill. A token bucket gives the same admissions but keeps two numbers (tokens, last
/// refill) and a fractional token count.
///
/// Rule, all in nanoseconds: `tat = max(stored ?? now, now)`; the request is allowed when
/// `tat - now <= τ`, and then `tat + T` is stored. A denied request changes nothing, so retrying
/// while denied neither helps nor hurts.
public enum GCRA {
    /// Decides one request.
    ///
    /// - Parameters:
    ///   - theoreticalArrival: the stored TAT for the key, or nil for a key never seen (or expired).
    ///   - now: monotonic nanoseconds.
    ///   - policy: the rate and burst.
    /// - Returns: the decision and the TAT to store (unchanged when denied). A stored TAT at or
    ///   before `now` means a full allowance, the same as no state at all, so it may be forgotten.
    public static func decide(
        theoreticalArrival: UInt64?,
        now: UInt64,
        policy: RateLimitPolicy
    ) -> (decision: RateLimitDecision, theoreticalArrival: UInt64) {
        let tat = max(theoreticalArrival ?? now, now)
        let debt = tat - now
        let decision = self.decision(
            debt: debt, interval: policy.emissionIntervalNanoseconds, tolerance: policy.toleranceNanoseconds,
            capacity: policy.capacity)
        guard decision.allowed else { return (decision, tat) }
        let (newTAT, overflow) = tat.addingReportingOverflow(policy.emissionIntervalNanoseconds)
        return (decision, overflow ? UInt64.max : newTAT)
    }

    /// The decision for a key whose debt (`TAT - now`, 0 for a full allowance) is `debt`, all in nanoseconds.
    ///
    /// Shared by the in-memory limiter and the Redis script, which runs the same rule on Redis's clock and
    /// returns only the debt it saw, so both give the same answers and headers.
    public static func decision(debt: UInt64, interval: UInt64, tolerance: UInt64, capacity: Int) -> RateLimitDecision {
        // Denied: the next admission is when the debt has shrunk back to τ.
        if debt > tolerance {
            return RateLimitDecision(
                allowed: false, limit: capacity, remaining: 0, resetSeconds: ceilSeconds(debt),
                retryAfterSeconds: ceilSeconds(debt - tolerance))
        }
        // Allowed: charge one interval; what is left of τ, in whole intervals, is `remaining`.
        let (charged, overflow) = debt.addingReportingOverflow(interval)
        return RateLimitDecision(
            allowed: true, limit: capacity, remaining: Int((tolerance - debt) / interval),
            resetSeconds: ceilSeconds(overflow ? UInt64.max : charged), retryAfterSeconds: 0)
    }

    /// Nanoseconds as whole seconds, rounded up.
    static func ceilSeconds(_ nanoseconds: UInt64) -> Int {
        let whole = nanoseconds / 1_000_000_000
        return Int(whole + (nanoseconds % 1_000_000_000 == 0 ? 0 : 1))
    }
}
