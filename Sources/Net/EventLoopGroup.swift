import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A fixed set of event loops, one thread each; usually one per core.
public final class EventLoopGroup: Sendable {
    /// The loops, each running on its own thread from `init` until `shutdown()`.
    public let loops: [EventLoop]
    private let threads: Mutex<[pthread_t]>
    private let roundRobin = Atomic<Int>(0)

    /// Starts `threads` loops (at least one), each on a new thread.
    /// - Throws: `SyscallError` if a loop's epoll or eventfd, or a thread, cannot be created.
    public init(threads count: Int) throws {
        precondition(count > 0, "an EventLoopGroup needs at least one thread")
        var loops: [EventLoop] = []
        for _ in 0..<count { loops.append(try EventLoop()) }
        self.loops = loops
        var started: [pthread_t] = []
        for loop in loops { started.append(try Self.startThread { loop.run() }) }
        threads = Mutex(started)
    }

    /// The next loop, round robin; callable from any thread.
    public func next() -> EventLoop {
        let i = roundRobin.wrappingAdd(1, ordering: .relaxed).oldValue
        return loops[(i & Int.max) % loops.count]
    }

    /// Stops every loop and waits for its thread to end. Must not be called on one of the loops.
    public func shutdown() {
        precondition(!loops.contains { $0.inEventLoop }, "shutdown from inside the group would deadlock")
        for loop in loops { loop.stop() }
        let joined = threads.withLock { threads in
            let all = threads
            threads.removeAll()
            return all
        }
        for thread in joined { pthread_join(thread, nil) }
    }

    private final class ThreadBody {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    private static func startThread(_ body: @escaping @Sendable () -> Void) throws -> pthread_t {
        let box = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(
            &thread, nil,
            { arg in
                guard let arg else { return nil }
                Unmanaged<ThreadBody>.fromOpaque(arg).takeRetainedValue().body()
                return nil
            }, box)
        guard result == 0 else {
            Unmanaged<ThreadBody>.fromOpaque(box).release()
            throw SyscallError(call: "pthread_create", errno: result)
        }
        return thread
    }
}
