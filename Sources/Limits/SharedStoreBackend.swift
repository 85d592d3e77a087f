import Dispatch
import Net
import Synchronization

/// What `SharedBans` and `SharedRevocations` need to use a shared store: the circuit in front of it, the loop
/// that writes from outside the request path go out on, and who hears of failures.
///
/// Both stores talk to the same Redis, so they share one `SharedStoreBackend` and one circuit: an outage seen by
/// either sends both to their local fallback.
public struct SharedStoreBackend: Sendable {
    /// Opens after failures in a row; while open, lookups answer from this process's lists at once.
    public let circuit: BackendCircuit
    /// Where writes and admin calls made off a loop (workers, the admin API) are sent.
    public let writeLoop: EventLoop
    /// Told of every failed call, with which store failed (`bans` or `revocations`); count it, never log it.
    public let onError: @Sendable (_ store: String, SharedStoreError) -> Void

    /// - Parameters:
    ///   - circuit: the breaker in front of the shared store.
    ///   - writeLoop: the loop for calls made off the request path.
    ///   - onError: told of each failed call.
    public init(
        circuit: BackendCircuit, writeLoop: EventLoop,
        onError: @escaping @Sendable (_ store: String, SharedStoreError) -> Void
    ) {
        self.circuit = circuit
        self.writeLoop = writeLoop
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
}
