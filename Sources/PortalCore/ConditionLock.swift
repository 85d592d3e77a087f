#if canImport(Glibc)
    import Glibc
#endif

/// A value guarded by a pthread mutex, with a condition variable to wait for changes to it.
///
/// `@unchecked Sendable`: `value` is only read or written while `mutex` is held, inside
/// `withLock` or `wait`. The pthread objects live in heap memory that never moves.
public final class ConditionLock<Value>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    private var value: Value

    /// A lock guarding `value`.
    public init(_ value: Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        // Waits measure time on CLOCK_MONOTONIC, so a wall-clock jump cannot stretch them.
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        condition = .allocate(capacity: 1)
        condition.initialize(to: pthread_cond_t())
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Runs `body` with the value while holding the lock.
    public func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }

    /// Holding the lock, waits until `ready` is true or `timeoutNanoseconds` pass, then runs `body`.
    /// - Returns: `body`'s result, and whether `ready` held when it ran.
    public func wait<R>(
        until ready: (Value) -> Bool, timeoutNanoseconds: UInt64, then body: (inout Value, Bool) -> R
    ) -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        let deadline = Self.deadline(after: timeoutNanoseconds)
        while !ready(value) {
            var remaining = deadline
            if pthread_cond_timedwait(condition, mutex, &remaining) == ETIMEDOUT { break }
        }
        return body(&value, ready(value))
    }

    /// Wakes every waiter; call after changing the value.
    public func broadcast() { pthread_cond_broadcast(condition) }

    private static func deadline(after nanoseconds: UInt64) -> timespec {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let total = UInt64(now.tv_nsec) + nanoseconds % 1_000_000_000
        let seconds = Int(now.tv_sec) + Int(nanoseconds / 1_000_000_000) + Int(total / 1_000_000_000)
        return timespec(tv_sec: seconds, tv_nsec: Int(total % 1_000_000_000))
    }
}
