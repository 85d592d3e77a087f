import PortalCore
import Synchronization

/// A GCRA rate limiter held in this process's memory, safe to call from every event-loop thread.
///
/// - Sharding: keys are spread over `shardCount` shards (default 64), each a `Mutex`-guarded
///   dictionary, by the key's `hashValue`. Swift seeds that hash per process, so a client cannot
///   aim its keys at one shard.
/// - Memory: one entry per key whose allowance is not full (TAT after now). An entry whose TAT has
///   passed means exactly the same as no entry, so forgetting it changes no decision. Each call
///   sweeps at most `sweepStepsPerCall` entries of its shard (default 2), so expired keys go away
///   in amortised constant time; `purgeExpired()` sweeps everything.
/// - Cap: at most `maxKeysPerShard` entries per shard (default 8,192, so 524,288 keys in all).
///   When a shard is full of live entries, a *new* key is refused (denied, `Retry-After` = the
///   policy's full window `τ + T`) and keys already tracked carry on. Live entries are never evicted,
///   because evicting one would give its owner a fresh allowance: an attacker who can mint keys
///   (many addresses) could otherwise reset any client's limit. Refusals are counted
///   (`capacityRefusals`) so the operator sees it. Key IPv6 clients by prefix (e.g. /64) upstream.
public final class InMemoryRateLimiter: RateLimitStore, Sendable {
    /// Sizing knobs; the defaults suit one gateway process.
    public struct Configuration: Sendable, Hashable {
        /// Number of shards; default 64.
        public var shardCount: Int
        /// Entries per shard before new keys are refused; default 8,192.
        public var maxKeysPerShard: Int
        /// Entries looked at for expiry on each call; default 2.
        public var sweepStepsPerCall: Int

        /// - Precondition: `shardCount >= 1`, `maxKeysPerShard >= 1`, `sweepStepsPerCall >= 0`.
        public init(shardCount: Int = 64, maxKeysPerShard: Int = 8_192, sweepStepsPerCall: Int = 2) {
            precondition(shardCount >= 1 && maxKeysPerShard >= 1 && sweepStepsPerCall >= 0, "bad limiter sizing")
            self.shardCount = shardCount
            self.maxKeysPerShard = maxKeysPerShard
            self.sweepStepsPerCall = sweepStepsPerCall
        }
    }

    private final class Shard: Sendable {
        let state = Mutex(RateLimitShard())
    }

    private let shards: [Shard]
    private let configuration: Configuration
    private let clock: any PortalClock
    private let refusals = Atomic<UInt64>(0)

    /// - Parameters:
    ///   - clock: source of monotonic time for `decide(key:policy:)` and `purgeExpired()`.
    ///   - configuration: sizing; see `Configuration` for defaults.
    public init(clock: any PortalClock, configuration: Configuration = Configuration()) {
        self.clock = clock
        self.configuration = configuration
        self.shards = (0..<configuration.shardCount).map { _ in Shard() }
    }

    /// Decides one request for `key` at `now` (monotonic nanoseconds); never throws.
    public func decide(key: String, policy: RateLimitPolicy, now: UInt64) -> RateLimitDecision {
        let outcome = shard(for: key).state.withLock {
            $0.decide(
                key: key,
                policy: policy,
                now: now,
                maxKeys: configuration.maxKeysPerShard,
                sweepSteps: configuration.sweepStepsPerCall
            )
        }
        switch outcome {
        case .decided(let decision):
            return decision
        case .refusedAtCapacity:
            refusals.add(1, ordering: .relaxed)
            let window = GCRA.ceilSeconds(policy.toleranceNanoseconds &+ policy.emissionIntervalNanoseconds)
            return RateLimitDecision(
                allowed: false,
                limit: policy.capacity,
                remaining: 0,
                resetSeconds: window,
                retryAfterSeconds: window
            )
        }
    }

    /// Decides one request for `key` at the clock's current monotonic time.
    public func decide(key: String, policy: RateLimitPolicy) -> RateLimitDecision {
        decide(key: key, policy: policy, now: clock.monotonicNanoseconds())
    }

    /// Keys currently tracked (allowance not full, or not yet swept); for a gauge.
    public var trackedKeyCount: Int {
        shards.reduce(0) { sum, shard in sum + shard.state.withLock { $0.entries.count } }
    }

    /// New keys refused because their shard was full of live entries, since start.
    public var capacityRefusals: UInt64 { refusals.load(ordering: .relaxed) }

    /// Forgets every expired key in every shard, one shard lock at a time.
    public func purgeExpired() {
        let now = clock.monotonicNanoseconds()
        for shard in shards {
            _ = shard.state.withLock { $0.purgeExpired(now: now) }
        }
    }

    private func shard(for key: String) -> Shard {
        shards[Int(UInt(bitPattern: key.hashValue) % UInt(shards.count))]
    }
}
