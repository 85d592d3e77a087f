/// How many requests one key may make: a sustained rate plus a burst on top of it.
///
/// The limiter is a GCRA (generic cell rate algorithm), and this policy fixes its two numbers:
///
/// - emission interval `T = 60 s / requestsPerMinute`, held in whole nanoseconds and rounded *up*,
///   so that rounding never admits more than the stated rate (7/min gives `T = 8.571428572 s`);
/// - tolerance `τ = burst × T`.
///
/// A fresh key may therefore send `burst + 1` requests at the same instant (one at the sustained
/// rate plus `burst` above it), and after that one more every `T`. `capacity` (`burst + 1`) is what
/// `RateLimit-Limit` reports. `RateLimitPolicy(requestsPerMinute: 100, burst: 20)` admits 21 at once,
/// then one every 0.6 s.
public struct RateLimitPolicy: Sendable, Hashable {
    /// The largest tolerance kept, in nanoseconds (2^62 ns, about 146 years); bigger bursts are clamped.
    public static let maximumToleranceNanoseconds: UInt64 = 1 << 62

    /// Sustained requests per minute; at least 1.
    public let requestsPerMinute: Int
    /// Requests allowed at once above the sustained one; clamped so that `τ` stays within
    /// `maximumToleranceNanoseconds`.
    public let burst: Int
    /// `T`: nanoseconds between two requests at the sustained rate, rounded up.
    public let emissionIntervalNanoseconds: UInt64
    /// `τ = burst × T` in nanoseconds.
    public let toleranceNanoseconds: UInt64

    /// Requests a fresh key may send at one instant: `burst + 1`.
    public var capacity: Int { burst + 1 }

    /// - Parameters:
    ///   - requestsPerMinute: sustained rate, 1 through 60,000,000,000 (default 100).
    ///   - burst: requests above the sustained rate allowed at once, 0 or more (default 20).
    /// - Precondition: both in range; configuration code validates operator input before it gets here.
    public init(requestsPerMinute: Int = 100, burst: Int = 20) {
        precondition(requestsPerMinute >= 1 && requestsPerMinute <= 60_000_000_000, "requestsPerMinute out of range")
        precondition(burst >= 0, "burst must not be negative")
        let rate = UInt64(requestsPerMinute)
        let interval = (60_000_000_000 + rate - 1) / rate
        let maxBurst = Self.maximumToleranceNanoseconds / interval
        let kept = min(UInt64(burst), maxBurst)
        self.requestsPerMinute = requestsPerMinute
        self.burst = Int(kept)
        self.emissionIntervalNanoseconds = interval
        self.toleranceNanoseconds = kept * interval
    }
}
