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
        let interval = policy.emissionIntervalNanoseconds
        let tolerance = policy.toleranceNanoseconds
        let tat = max(theoreticalArrival ?? now, now)
        let debt = tat - now

        // Denied: the next admission is when the debt has shrunk back to τ.
        if debt > tolerance {
            let decision = RateLimitDecision(
                allowed: false,
                limit: policy.capacity,
                remaining: 0,
                resetSeconds: ceilSeconds(debt),
                retryAfterSeconds: ceilSeconds(debt - tolerance)
            )
            return (decision, tat)
        }

        // Allowed: charge one interval; what is left of τ, in whole intervals, is `remaining`.
        let (newTAT, overflow) = tat.addingReportingOverflow(interval)
        let stored = overflow ? UInt64.max : newTAT
        let decision = RateLimitDecision(
            allowed: true,
            limit: policy.capacity,
            remaining: Int((tolerance - debt) / interval),
            resetSeconds: ceilSeconds(stored - now),
            retryAfterSeconds: 0
        )
        return (decision, stored)
    }

    /// Nanoseconds as whole seconds, rounded up.
    static func ceilSeconds(_ nanoseconds: UInt64) -> Int {
        let whole = nanoseconds / 1_000_000_000
        return Int(whole + (nanoseconds % 1_000_000_000 == 0 ? 0 : 1))
    }
}
