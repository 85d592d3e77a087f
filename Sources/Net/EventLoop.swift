import CEpoll
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Something registered on an event loop that is told when its descriptor is ready. Loop thread only.
protocol EventLoopSelectable: AnyObject {
    func handleEvents(_ events: UInt32)
}

/// Something with output gathered during a loop iteration, written once at its end. Loop thread only.
protocol EventLoopFlushable: AnyObject {
    func flushDeferred()
}

/// One epoll loop on one thread.
///
/// Sockets, timers and per-loop state belong to the loop and are touched only on its thread, so the
/// per-request path takes no lock. `execute(_:)` is the one way in from other threads: it queues the task
/// under a mutex and wakes the loop through an eventfd.
///
/// `@unchecked Sendable`: every stored `var` is touched only on the loop's thread (checked by
/// `assertInEventLoop`); cross-thread state is the `Mutex` task queue and the `Atomic`s.
public final class EventLoop: @unchecked Sendable {
    let epollFD: Int32
    private let wakeFD: Int32
    private let pending = Mutex<[@Sendable () -> Void]>([])
    private let thread = Atomic<UInt>(0)
    private let stopRequested = Atomic<Bool>(false)
    private var selectables: [EventLoopSelectable?] = []
    private var timers = TimerHeap()
    /// Writers with output to send once the events of this iteration are handled, so that parts produced in one
    /// iteration (a head, a body, an end) leave in one system call. Loop thread only.
    private var flushQueue: [EventLoopFlushable] = []
    private var flushing: [EventLoopFlushable] = []
    /// Per-loop state of other objects (upstream pools, server connections), keyed by their id. Loop thread only.
    var storage: [Int: AnyObject] = [:]

    init() throws(SyscallError) {
        epollFD = try Syscall.check("epoll_create1") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
        do {
            wakeFD = try Syscall.check("eventfd") { eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC)) }
        } catch {
            Syscall.close(epollFD)
            throw error
        }
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.fd = wakeFD
        _ = epoll_ctl(epollFD, EPOLL_CTL_ADD, wakeFD, &event)
    }

    deinit {
        Syscall.close(wakeFD)
        Syscall.close(epollFD)
    }

    /// Runs `task` on this loop's thread, soon; callable from any thread, tasks run in submission order.
    public func execute(_ task: @escaping @Sendable () -> Void) {
        pending.withLock { $0.append(task) }
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)
    }

    /// Whether the caller is on this loop's thread.
    public var inEventLoop: Bool { thread.load(ordering: .relaxed) == UInt(pthread_self()) }

    func assertInEventLoop() {
        assert(inEventLoop, "called off the event loop's thread")
    }

    /// Runs `task` on this loop after `afterNanoseconds`, checked each loop iteration. Loop thread only.
    /// - Returns: an id for `cancelTimer(_:)`.
    @discardableResult
    public func scheduleTimer(afterNanoseconds: UInt64, _ task: @escaping () -> Void) -> TimerID {
        precondition(inEventLoop, "scheduleTimer must be called on the loop's thread")
        return timers.insert(deadline: Self.now() &+ afterNanoseconds, task)
    }

    /// Cancels a timer that has not fired; a fired or unknown id is ignored. Loop thread only.
    public func cancelTimer(_ id: TimerID) {
        precondition(inEventLoop, "cancelTimer must be called on the loop's thread")
        timers.cancel(id)
    }

    /// Calls `flushable.flushDeferred()` once the events and tasks of this iteration are handled. Loop thread only.
    func deferFlush(_ flushable: EventLoopFlushable) {
        flushQueue.append(flushable)
    }

    /// `CLOCK_MONOTONIC` in nanoseconds, the loop's time base.
    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    // MARK: Descriptors

    func register(_ fd: Int32, _ selectable: EventLoopSelectable, events: UInt32) throws(SyscallError) {
        assertInEventLoop()
        let index = Int(fd)
        if index >= selectables.count {
            selectables.append(contentsOf: repeatElement(nil, count: index + 1 - selectables.count))
        }
        var event = epoll_event()
        event.events = events
        event.data.fd = fd
        try Syscall.check("epoll_ctl") { epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &event) }
        selectables[index] = selectable
    }

    func modify(_ fd: Int32, events: UInt32) {
        assertInEventLoop()
        var event = epoll_event()
        event.events = events
        event.data.fd = fd
        _ = epoll_ctl(epollFD, EPOLL_CTL_MOD, fd, &event)
    }

    /// Removes `fd` from the loop and closes it.
    func closeDescriptor(_ fd: Int32) {
        assertInEventLoop()
        _ = epoll_ctl(epollFD, EPOLL_CTL_DEL, fd, nil)
        if Int(fd) < selectables.count { selectables[Int(fd)] = nil }
        Syscall.close(fd)
    }

    // MARK: Running

    /// Runs the loop on the calling thread until `stop()`.
    func run() {
        thread.store(UInt(pthread_self()), ordering: .relaxed)
        var events = [epoll_event](repeating: epoll_event(), count: 256)
        while !stopRequested.load(ordering: .relaxed) {
            let timeout = timeoutMilliseconds()
            let count = events.withUnsafeMutableBufferPointer { epoll_wait(epollFD, $0.baseAddress, 256, timeout) }
            if count > 0 {
                for i in 0..<Int(count) {
                    let fd = events[i].data.fd
                    if fd == wakeFD {
                        var value: UInt64 = 0
                        _ = read(wakeFD, &value, 8)
                        continue
                    }
                    if Int(fd) < selectables.count, let selectable = selectables[Int(fd)] {
                        selectable.handleEvents(events[i].events)
                    }
                }
            }
            runPendingTasks()
            runDeferredFlushes()
            for task in timers.popDue(now: Self.now()) { task() }
            runDeferredFlushes()
        }
        runPendingTasks()
        runDeferredFlushes()
        // Nothing runs here again: what the loop held (registered descriptors' owners, timers, per-loop state) is
        // let go on this thread, so that objects that refer back to the loop do not keep it, and its descriptors,
        // alive after its group shut down.
        selectables.removeAll()
        timers = TimerHeap()
        storage.removeAll()
        flushQueue.removeAll()
        pending.withLock { $0.removeAll() }
    }

    private func runDeferredFlushes() {
        // A flush may defer another (a relay moving bytes on): run until the queue stays empty.
        while !flushQueue.isEmpty {
            swap(&flushQueue, &flushing)
            for flushable in flushing { flushable.flushDeferred() }
            flushing.removeAll(keepingCapacity: true)
        }
    }

    /// Asks the loop to return from `run()`; callable from any thread.
    func stop() {
        stopRequested.store(true, ordering: .relaxed)
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)
    }

    private func runPendingTasks() {
        let tasks = pending.withLock { tasks in
            let taken = tasks
            tasks.removeAll(keepingCapacity: true)
            return taken
        }
        for task in tasks { task() }
    }

    private func timeoutMilliseconds() -> Int32 {
        guard let deadline = timers.earliestDeadline() else { return -1 }
        let now = Self.now()
        if deadline <= now { return 0 }
        // Round up so the loop never wakes just before a deadline and spins.
        return Int32(min((deadline - now + 999_999) / 1_000_000, 60_000))
    }
}
