/// One shard of `InMemoryRateLimiter`: a dictionary from key to TAT plus a dense list of the keys,
/// which lets a cursor sweep a few entries per call without rescanning the dictionary.
///
/// A value type, mutated only under its shard's `Mutex`.
struct RateLimitShard {
    struct Entry {
        var theoreticalArrival: UInt64
        var slot: Int
    }

    private(set) var entries: [String: Entry] = [:]
    private var slots: [String] = []
    private var cursor = 0
    /// While the shard is full, the earliest instant at which any entry can expire: before it, a
    /// full purge would find nothing, so new keys are refused without scanning.
    private var fullUntil: UInt64 = 0

    /// What `decide` did.
    enum Outcome {
        case decided(RateLimitDecision)
        case refusedAtCapacity
    }

    /// Decides one request, after sweeping at most `sweepSteps` entries.
    mutating func decide(
        key: String,
        policy: RateLimitPolicy,
        now: UInt64,
        maxKeys: Int,
        sweepSteps: Int
    ) -> Outcome {
        sweep(steps: sweepSteps, now: now)

        // A known key: update in place through its index, no second hash lookup.
        if let index = entries.index(forKey: key) {
            let stored = entries.values[index].theoreticalArrival
            let (decision, tat) = GCRA.decide(theoreticalArrival: stored, now: now, policy: policy)
            entries.values[index].theoreticalArrival = tat
            return .decided(decision)
        }

        // A new key needs room. Live entries are never evicted: that would hand their owners a
        // fresh allowance, and an attacker with many keys could reset anyone's limit that way.
        if entries.count >= maxKeys {
            guard now >= fullUntil else { return .refusedAtCapacity }
            fullUntil = purgeExpired(now: now)
            guard entries.count < maxKeys else { return .refusedAtCapacity }
        }
        let (decision, tat) = GCRA.decide(theoreticalArrival: nil, now: now, policy: policy)
        if tat > now {
            entries[key] = Entry(theoreticalArrival: tat, slot: slots.count)
            slots.append(key)
            fullUntil = 0
        }
        return .decided(decision)
    }

    /// Forgets every entry whose allowance is full at `now`.
    ///
    /// - Returns: the earliest TAT among the entries kept (`UInt64.max` when none are kept).
    @discardableResult
    mutating func purgeExpired(now: UInt64) -> UInt64 {
        var earliest = UInt64.max
        // Walk down: a swap-remove moves the last slot, which has already been looked at, into place.
        var index = slots.count - 1
        while index >= 0 {
            let tat = entries[slots[index]]?.theoreticalArrival ?? 0
            if tat <= now {
                removeSlot(index)
            } else {
                earliest = min(earliest, tat)
            }
            index -= 1
        }
        cursor = 0
        return earliest
    }

    /// Looks at up to `steps` entries from the cursor and forgets the expired ones.
    private mutating func sweep(steps: Int, now: UInt64) {
        var left = steps
        while left > 0 && !slots.isEmpty {
            if cursor >= slots.count { cursor = 0 }
            let tat = entries[slots[cursor]]?.theoreticalArrival ?? 0
            if tat <= now {
                removeSlot(cursor)
            } else {
                cursor += 1
            }
            left -= 1
        }
    }

    /// Removes the key in `slot` by moving the last slot into its place.
    private mutating func removeSlot(_ slot: Int) {
        entries[slots[slot]] = nil
        let last = slots.removeLast()
        if slot < slots.count {
            slots[slot] = last
            entries[last]?.slot = slot
        }
    }
}
