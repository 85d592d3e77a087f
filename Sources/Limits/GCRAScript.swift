import Crypto

/// The GCRA rule as one Lua script that Redis runs atomically, on Redis's own clock.
///
/// `KEYS[1]` is the key's TAT; `ARGV[1]` the emission interval `T` and `ARGV[2]` the tolerance `τ`, both in
/// whole microseconds. The script reads `TIME`, so gateways whose clocks disagree still agree on every
/// decision; it applies `GCRA.decide`'s rule, stores the new TAT with a `PX` expiry at the moment the
/// allowance is full again (a forgotten key means the same as a full one), and returns `{allowed, debt}`
/// with the debt in microseconds, from which `GCRA.decision` builds the same headers as in memory.
///
/// Microseconds because Lua numbers are doubles: `TIME` in microseconds (about 1.8e15) stays exact below
/// 2^53, nanoseconds would not. The TAT is written with `%.0f` so that no exponent form loses digits.
enum GCRAScript {
    static let source = """
        local interval = tonumber(ARGV[1])
        local tolerance = tonumber(ARGV[2])
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
        local tat = tonumber(redis.call('GET', KEYS[1])) or now
        if tat < now then tat = now end
        local debt = tat - now
        if debt > tolerance then return {0, debt} end
        local stored = tat + interval
        redis.call('SET', KEYS[1], string.format('%.0f', stored), 'PX', math.ceil((stored - now) / 1000))
        return {1, debt}
        """

    /// The SHA-1 Redis names the loaded script by, for `EVALSHA`.
    static let sha1 = InsecureSHA1.hexForIdentifier(Array(source.utf8))

    /// `T` in whole microseconds, rounded up so that Redis never admits more than the stated rate.
    static func intervalMicroseconds(_ policy: RateLimitPolicy) -> Int64 {
        Int64((policy.emissionIntervalNanoseconds + 999) / 1000)
    }

    /// `τ = burst × T` in microseconds.
    static func toleranceMicroseconds(_ policy: RateLimitPolicy) -> Int64 {
        Int64(policy.burst) * intervalMicroseconds(policy)
    }
}
