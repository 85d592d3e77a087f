import Dispatch
import HTTPCodec
import Net
import Synchronization

/// The L01 data layer as an `HTTPHandler`: routes on a small pool of worker threads.
///
/// `handle` returns at once; the blocking store work runs on one of `workerCount` serial
/// dispatch queues (round robin) and calls `respond` from there, exactly once per request.
public final class DataLayerService: HTTPHandler {
    /// The routing and validation, callable directly in tests.
    public let router: DataLayerRouter
    private let workers: [DispatchQueue]
    private let nextWorker = Atomic<Int>(0)

    /// - Parameters:
    ///   - router: the API.
    ///   - workerCount: threads that may block on the store at once; default 2.
    public init(router: DataLayerRouter, workerCount: Int = 2) {
        precondition(workerCount >= 1, "a data layer needs at least one worker")
        self.router = router
        workers = (0..<workerCount).map { DispatchQueue(label: "data-layer-worker-\($0)") }
    }

    public func handle(
        _ request: HTTPRequest, connection: ConnectionInfo, loop: EventLoop,
        respond: @escaping @Sendable (HTTPResponse) -> Void
    ) {
        submit(request, respond: respond)
    }

    /// Routes `request` on a worker thread and calls `respond` there with the answer.
    public func submit(_ request: HTTPRequest, respond: @escaping @Sendable (HTTPResponse) -> Void) {
        let ticket = UInt(bitPattern: nextWorker.wrappingAdd(1, ordering: .relaxed).oldValue)
        let router = router
        workers[Int(ticket % UInt(workers.count))].async { respond(router.route(request)) }
    }
}
