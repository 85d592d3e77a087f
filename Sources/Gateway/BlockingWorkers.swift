import Dispatch
import Synchronization

/// A few threads for work that blocks (password hashing, store reads and writes), so that event loops never do.
///
/// Jobs go round-robin to `threadCount` serial queues. At most `maxPending` jobs wait at once; past that
/// `submit` refuses at once, so a flood of logins costs a quick refusal instead of memory and latency for all.
public final class BlockingWorkers: Sendable {
    private let queues: [DispatchQueue]
    private let next = Atomic<Int>(0)
    private let pending = Atomic<Int>(0)
    private let maxPending: Int

    /// - Parameters:
    ///   - name: the queues' label prefix.
    ///   - threadCount: jobs that may run at once; default 2.
    ///   - maxPending: jobs that may wait or run; default 256.
    public init(name: String, threadCount: Int = 2, maxPending: Int = 256) {
        precondition(threadCount >= 1 && maxPending >= 1, "workers need a thread and room for a job")
        queues = (0..<threadCount).map { DispatchQueue(label: "\(name)-\($0)") }
        self.maxPending = maxPending
    }

    /// Runs `job` on a worker unless `maxPending` jobs are waiting or running already.
    /// - Returns: false (and `job` never runs) when refused.
    @discardableResult
    public func submit(_ job: @escaping @Sendable () -> Void) -> Bool {
        guard pending.add(1, ordering: .relaxed).newValue <= maxPending else {
            pending.subtract(1, ordering: .relaxed)
            return false
        }
        let index = Int(UInt(bitPattern: next.wrappingAdd(1, ordering: .relaxed).oldValue) % UInt(queues.count))
        queues[index].async { [self] in
            job()
            pending.subtract(1, ordering: .relaxed)
        }
        return true
    }

    /// Jobs waiting or running now.
    public var load: Int { pending.load(ordering: .relaxed) }
}
