import Dispatch
import Net
import Synchronization

/// What `SharedBans`, `SharedRevocations` and `SharedAuthFailures` need to use a shared store: the circuit in
/// front of it, the loop their mirrors sync on and writes from outside the request path go out on, how often they
/// sync, and who hears of failures.
///
/// All three talk to the same Redis, so they share one `SharedStoreBackend` and one circuit: an outage seen by
/// any holds the lists to their last copy and the failure counts to each gateway's own.
public struct SharedStoreBackend: Sendable {
    /// Opens after failures in a row; while open, syncs and writes wait for its probe.
    public let circuit: BackendCircuit
    /// Where syncs run, and where writes and admin calls made off a loop (workers, the admin API) are sent.
    public let writeLoop: EventLoop
    /// How often each mirror asks the store whether its list changed (one small script call); default 1 s.
    public let syncIntervalNanoseconds: UInt64
    /// Told of every failed call, with which store failed (`bans`, `revocations` or `failures`); count it, never
    /// log it.
    public let onError: @Sendable (_ store: String, SharedStoreError) -> Void

    /// - Parameters:
    ///   - circuit: the breaker in front of the shared store.
    ///   - writeLoop: the loop for syncs and for calls made off the request path.
    ///   - syncIntervalNanoseconds: the time between syncs; default 1 s.
    ///   - onError: told of each failed call.
    public init(
        circuit: BackendCircuit, writeLoop: EventLoop, syncIntervalNanoseconds: UInt64 = 1_000_000_000,
        onError: @escaping @Sendable (_ store: String, SharedStoreError) -> Void
    ) {
        self.circuit = circuit
        self.writeLoop = writeLoop
        self.syncIntervalNanoseconds = syncIntervalNanoseconds
        self.onError = onError
    }

    /// Runs `body` on the write loop and waits for its completion. Blocks: never call it on a loop's thread.
    func wait<T: Sendable>(_ body: @escaping @Sendable (EventLoop, @escaping @Sendable (T) -> Void) -> Void) -> T {
        precondition(!writeLoop.inEventLoop, "waiting on the write loop would block it")
        let box = Mutex<T?>(nil)
        let done = DispatchSemaphore(value: 0)
        let loop = writeLoop
        loop.execute {
            body(loop) { value in
                box.withLock { $0 = value }
                done.signal()
            }
        }
        done.wait()
        return box.withLock { $0! }
    }

    /// Feeds the circuit and the error count with one call's outcome.
    func note<T>(_ result: Result<T, SharedStoreError>, store: String) {
        switch result {
        case .success:
            circuit.recordSuccess()
        case .failure(let error):
            circuit.recordFailure()
            onError(store, error)
        }
    }

    /// Calls `sync` on the write loop now and then every interval, while `isStopped` is false; `sync` calls its
    /// completion when done, so syncs never overlap. A sync is skipped while the circuit is open.
    func repeatSync(
        isStopped: @escaping @Sendable () -> Bool,
        _ sync: @escaping @Sendable (_ done: @escaping @Sendable () -> Void) -> Void
    ) {
        let loop = writeLoop
        let interval = syncIntervalNanoseconds
        let circuit = circuit
        @Sendable func round() {
            guard !isStopped() else { return }
            let next: @Sendable () -> Void = {
                loop.execute { loop.scheduleTimer(afterNanoseconds: interval) { round() } }
            }
            guard circuit.allowsRequest() else { return next() }
            sync(next)
        }
        loop.execute { round() }
    }
}
