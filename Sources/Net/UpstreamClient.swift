import HTTPCodec
import Synchronization

/// A pooled HTTP/1.1 client for reverse proxying, created once and shared by every loop.
///
/// Each event loop keeps its own pool of idle keep-alive connections per upstream, stored on the loop and
/// touched only on its thread, so the per-request path takes no lock. An exchange that was sent on a reused
/// connection which turns out closed before any response byte arrived is retried once on a fresh
/// connection, for idempotent methods only. A POST or PATCH is never retried: once any byte of it went out,
/// the upstream may have acted on it, so it fails with `closedEarly` (502) rather than risk applying it twice.
public final class UpstreamClient: Sendable {
    /// Pool and size settings.
    public struct Configuration: Sendable, Equatable {
        /// Idle connections kept per upstream per loop; default 256.
        ///
        /// A loop keeps as many connections as it has requests in flight to one upstream; a cap below that
        /// peak closes connections on release only to reopen them for the next request (reconnect churn).
        public var maxIdlePerUpstream: Int
        /// How long an idle connection is kept, in nanoseconds; default 30 s.
        public var idleTimeoutNanoseconds: UInt64
        /// Largest response body accepted, in bytes; default 64 MiB.
        public var maxResponseBodyBytes: Int

        /// Settings with the documented defaults, each overridable.
        public init(
            maxIdlePerUpstream: Int = 256, idleTimeoutNanoseconds: UInt64 = 30_000_000_000,
            maxResponseBodyBytes: Int = 64 * 1024 * 1024
        ) {
            self.maxIdlePerUpstream = maxIdlePerUpstream
            self.idleTimeoutNanoseconds = idleTimeoutNanoseconds
            self.maxResponseBodyBytes = maxResponseBodyBytes
        }
    }

    public let configuration: Configuration
    /// Distinguishes this client's pools from others' on the same loops.
    let id: Int
    let responseLimits: HTTPParserLimits

    /// A client with `configuration`; it opens no connection until the first request.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        self.id = HTTPServer.ids.wrappingAdd(1, ordering: .relaxed).oldValue
        self.responseLimits = HTTPParserLimits(maxBodyBytes: configuration.maxResponseBodyBytes)
    }

    /// Sends `request` to `upstream` and calls `completion` once, on `loop`'s thread, with the response.
    ///
    /// The request is written as `method target HTTP/1.1` with its headers as given, except
    /// `Content-Length`/`Transfer-Encoding`, which are set from the body. Callable from any thread.
    /// - Parameter timeoutNanoseconds: the whole exchange (connect, write, read); past it `.timeout` (504).
    public func execute(
        _ request: HTTPRequest, to upstream: UpstreamAddress, on loop: EventLoop, timeoutNanoseconds: UInt64,
        completion: @escaping @Sendable (Result<HTTPResponse, UpstreamError>) -> Void
    ) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256 + request.body.count)
        HTTPRequestSerializer.write(request, into: &bytes)
        let idempotent = ["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"].contains(request.method)
        let exchange = UpstreamExchange(
            bytes: bytes, method: request.method, idempotent: idempotent,
            address: upstream, completion: completion)
        if loop.inEventLoop {
            start(exchange, on: loop, timeoutNanoseconds: timeoutNanoseconds)
        } else {
            loop.execute { self.start(exchange, on: loop, timeoutNanoseconds: timeoutNanoseconds) }
        }
    }

    private func start(_ exchange: UpstreamExchange, on loop: EventLoop, timeoutNanoseconds: UInt64) {
        let pool = self.pool(on: loop)
        exchange.timer = loop.scheduleTimer(afterNanoseconds: timeoutNanoseconds) {
            exchange.timer = nil
            exchange.connection?.close()
            exchange.finish(.failure(UpstreamError(.timeout)))
        }
        pool.run(exchange, allowReuse: true)
    }

    private func pool(on loop: EventLoop) -> UpstreamPool {
        if let pool = loop.storage[id] as? UpstreamPool { return pool }
        let pool = UpstreamPool(loop: loop, configuration: configuration, limits: responseLimits)
        loop.storage[id] = pool
        return pool
    }
}

/// One request's way through the pool. Loop thread only.
///
/// `@unchecked Sendable`: created on any thread, then handed to the loop once and touched only there.
final class UpstreamExchange: @unchecked Sendable {
    let bytes: [UInt8]
    let method: String
    let idempotent: Bool
    let address: UpstreamAddress
    private let completion: @Sendable (Result<HTTPResponse, UpstreamError>) -> Void
    var timer: TimerID?
    var connection: UpstreamConnection?
    var retried = false
    var done = false
    weak var loop: EventLoop?

    init(
        bytes: [UInt8], method: String, idempotent: Bool, address: UpstreamAddress,
        completion: @escaping @Sendable (Result<HTTPResponse, UpstreamError>) -> Void
    ) {
        self.bytes = bytes
        self.method = method
        self.idempotent = idempotent
        self.address = address
        self.completion = completion
    }

    func finish(_ result: Result<HTTPResponse, UpstreamError>) {
        guard !done else { return }
        done = true
        if let timer, let loop { loop.cancelTimer(timer) }
        timer = nil
        connection = nil
        completion(result)
    }
}
