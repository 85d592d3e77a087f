import Dispatch
import Synchronization

/// Threads of their own for argon2id password checks, apart from the store workers, shared fairly among clients.
///
/// A client address has at most `maxPerAddress` checks waiting or running; past that it is refused at once
/// (429). Addresses whose password failed within `suspectSeconds` share `maxSuspectPending` places, everyone else
/// `maxPending`, and a free thread takes the next check of a clean address before a suspect one: a flood of wrong
/// passwords from many addresses waits behind itself, not in front of a real login, and never holds a thread
/// that a store write (refresh grants, key lookups, on `BlockingWorkers`) needs. Past either bound: 503 at once.
public final class PasswordHashPool: Sendable {
    /// Whether a check was taken.
    public enum Admission: Sendable, Equatable {
        case accepted
        /// This address has `maxPerAddress` checks waiting or running already.
        case addressBusy
        /// Every place of the lane this address belongs to is taken.
        case full
    }

    private struct Job {
        let address: String
        let release: Release
        let run: @Sendable (_ release: @escaping @Sendable () -> Void) -> Void
    }

    /// Gives an address its place back once, whether the job calls it (before answering) or the pool after it.
    private final class Release: Sendable {
        let done = Atomic<Bool>(false)
    }

    private struct State {
        var clean: [Job] = []
        var suspect: [Job] = []
        var cleanCount = 0
        var suspectCount = 0
        var running = 0
        var perAddress: [String: Int] = [:]
        /// When each address last failed, in monotonic nanoseconds.
        var failures: [String: UInt64] = [:]
    }

    private let state = Mutex(State())
    private let queue = DispatchQueue(label: "portal-password-checks", attributes: .concurrent)
    private let threadCount: Int
    private let maxPending: Int
    private let maxSuspectPending: Int
    private let maxPerAddress: Int
    private let suspectNanoseconds: UInt64
    /// Failed addresses remembered at most; the oldest half is forgotten past it.
    private static let maxRemembered = 65_536

    /// - Parameters:
    ///   - threadCount: checks that run at once (`PASSWORD_HASH_THREADS`); default 2.
    ///   - maxPending: checks of clean addresses that may wait or run (`PASSWORD_HASH_QUEUE`); default 8.
    ///   - maxSuspectPending: checks of addresses that failed lately that may wait or run; default 8.
    ///   - maxPerAddress: checks one address may have waiting or running (`PASSWORD_HASH_PER_ADDRESS`); default 1.
    ///   - suspectSeconds: how long a failed password marks its address; default 60.
    public init(
        threadCount: Int = 2, maxPending: Int = 8, maxSuspectPending: Int = 8, maxPerAddress: Int = 1,
        suspectSeconds: Int = 60
    ) {
        precondition(threadCount >= 1 && maxPending >= 1 && maxSuspectPending >= 1 && maxPerAddress >= 1)
        self.threadCount = threadCount
        self.maxPending = maxPending
        self.maxSuspectPending = maxSuspectPending
        self.maxPerAddress = maxPerAddress
        suspectNanoseconds = UInt64(max(1, suspectSeconds)) * 1_000_000_000
    }

    /// Queues `job` for `address` unless that address or its lane is full; `job` runs on a pool thread.
    ///
    /// `job` is handed a `release` to call just before it answers, so that a client sending its next login as soon
    /// as it has the answer finds its address's place free again; the pool calls it after `job` otherwise.
    public func submit(
        address: String, _ job: @escaping @Sendable (_ release: @escaping @Sendable () -> Void) -> Void
    ) -> Admission {
        let now = DispatchTime.now().uptimeNanoseconds
        let (admission, startThread) = state.withLock { state -> (Admission, Bool) in
            guard state.perAddress[address, default: 0] < maxPerAddress else { return (.addressBusy, false) }
            let suspect = state.failures[address].map { now &- $0 < suspectNanoseconds } ?? false
            if suspect {
                guard state.suspectCount < maxSuspectPending else { return (.full, false) }
                state.suspectCount += 1
                state.suspect.append(Job(address: address, release: Release(), run: job))
            } else {
                guard state.cleanCount < maxPending else { return (.full, false) }
                state.cleanCount += 1
                state.clean.append(Job(address: address, release: Release(), run: job))
            }
            state.perAddress[address, default: 0] += 1
            guard state.running < threadCount else { return (.accepted, false) }
            state.running += 1
            return (.accepted, true)
        }
        if startThread { queue.async { [self] in drain() } }
        return admission
    }

    /// Marks `address` as having failed a password just now: its next checks wait in the suspect lane.
    public func noteFailure(address: String) {
        let now = DispatchTime.now().uptimeNanoseconds
        state.withLock { state in
            if state.failures.count >= Self.maxRemembered {
                let cutoff = state.failures.values.sorted()[state.failures.count / 2]
                state.failures = state.failures.filter { $0.value > cutoff }
            }
            state.failures[address] = now
        }
    }

    /// Checks waiting or running now.
    public var load: Int { state.withLock { $0.cleanCount + $0.suspectCount } }

    /// One pool thread: runs checks, clean ones first, until none is left.
    private func drain() {
        while true {
            let next = state.withLock { state -> (job: Job, suspect: Bool)? in
                if !state.clean.isEmpty { return (state.clean.removeFirst(), false) }
                if !state.suspect.isEmpty { return (state.suspect.removeFirst(), true) }
                state.running -= 1
                return nil
            }
            guard let (job, suspect) = next else { return }
            job.run { [self] in release(job) }
            release(job)
            state.withLock { state in
                if suspect { state.suspectCount -= 1 } else { state.cleanCount -= 1 }
            }
        }
    }

    private func release(_ job: Job) {
        guard !job.release.done.exchange(true, ordering: .relaxed) else { return }
        state.withLock { state in
            let left = state.perAddress[job.address, default: 1] - 1
            state.perAddress[job.address] = left > 0 ? left : nil
        }
    }
}
