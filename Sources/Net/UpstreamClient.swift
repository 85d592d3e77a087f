import HTTPCodec
import Synchronization

/// A pooled HTTP/1.1 client for reverse proxying, created once and shared by every loop.
///
/// Each event loop keeps its own pool of idle keep-alive connections per upstream, stored on the loop and
/// touched only on its thread, so the per-request path takes no lock. An exchange that was sent on a reused
/// connection which turns out closed before any response byte arrived is retried once on a fresh
/// connection, for idempotent methods only, and only while no request body byte has gone to a socket. A POST
/// or PATCH is never retried: once any byte of it went out, the upstream may have acted on it, so it fails
/// with `closedEarly` (502) rather than risk applying it twice.
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
        /// Largest response body `execute` collects, in bytes; default 64 MiB. Streams have no such limit.
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
    /// Streamed response bodies have no size limit here; `execute` bounds what it collects itself.
    let responseLimits = HTTPParserLimits(maxBodyBytes: Int.max)

    /// A client with `configuration`; it opens no connection until the first request.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        self.id = HTTPServer.ids.wrappingAdd(1, ordering: .relaxed).oldValue
    }

    /// Starts streaming `request` (its head; the body follows through the returned stream) to `upstream`.
    ///
    /// The request is written as `method target HTTP/1.1` with its headers as given, except
    /// `Content-Length`/`Transfer-Encoding`, which are set from `bodyLength` (chunked when unknown).
    /// Must be called on `loop`'s thread; the delegate is told everything on it.
    /// - Parameter timeoutNanoseconds: the longest wait on the upstream without progress; past it `.timeout`.
    public func stream(
        _ request: HTTPRequest, bodyLength: HTTPBodyLength, to upstream: UpstreamAddress, on loop: EventLoop,
        timeoutNanoseconds: UInt64, delegate: any UpstreamStreamDelegate
    ) -> UpstreamStream {
        precondition(loop.inEventLoop, "UpstreamClient.stream must be called on the loop's thread")
        var head: [UInt8] = []
        HTTPRequestSerializer.writeHead(request, bodyLength: bodyLength, into: &head)
        let stream = UpstreamStream(
            head: head, method: request.method, bodyLength: bodyLength, address: upstream, loop: loop,
            timeoutNanoseconds: timeoutNanoseconds, delegate: delegate)
        stream.progressed()
        stream.armTimer(after: timeoutNanoseconds)
        pool(on: loop).run(stream, allowReuse: true)
        return stream
    }

    /// Sends `request` to `upstream` and calls `completion` once, on `loop`'s thread, with the whole response.
    ///
    /// The body goes with `Content-Length` from `request.body`. Callable from any thread.
    /// - Parameter timeoutNanoseconds: the longest wait on the upstream without progress; past it `.timeout` (504).
    public func execute(
        _ request: HTTPRequest, to upstream: UpstreamAddress, on loop: EventLoop, timeoutNanoseconds: UInt64,
        completion: @escaping @Sendable (Result<HTTPResponse, UpstreamError>) -> Void
    ) {
        let collector = ResponseCollector(limit: configuration.maxResponseBodyBytes, completion: completion)
        let start: @Sendable () -> Void = { [self] in
            let length: HTTPBodyLength = request.body.isEmpty ? .none : .known(request.body.count)
            let stream = self.stream(
                request, bodyLength: length, to: upstream, on: loop, timeoutNanoseconds: timeoutNanoseconds,
                delegate: collector)
            collector.stream = stream
            request.body.withUnsafeBytes { stream.writeBody($0) }
            stream.endBody()
        }
        if loop.inEventLoop { start() } else { loop.execute(start) }
    }

    private func pool(on loop: EventLoop) -> UpstreamPool {
        if let pool = loop.storage[id] as? UpstreamPool { return pool }
        let pool = UpstreamPool(loop: loop, configuration: configuration, limits: responseLimits)
        loop.storage[id] = pool
        return pool
    }
}

/// Collects a streamed response whole for `UpstreamClient.execute`, up to `limit` body bytes.
///
/// `@unchecked Sendable`: created on any thread, then touched only on the exchange's loop.
final class ResponseCollector: UpstreamStreamDelegate, @unchecked Sendable {
    let limit: Int
    let completion: @Sendable (Result<HTTPResponse, UpstreamError>) -> Void
    var response: HTTPResponse?
    weak var stream: UpstreamStream?

    init(limit: Int, completion: @escaping @Sendable (Result<HTTPResponse, UpstreamError>) -> Void) {
        self.limit = limit
        self.completion = completion
    }

    func upstreamReceivedHead(_ head: HTTPResponseHead) {
        if case .known(let length) = head.bodyLength, length > limit { return tooLarge() }
        response = head.response
    }

    func upstreamReceivedBody(_ bytes: UnsafeRawBufferPointer) {
        guard response != nil else { return }
        guard bytes.count <= limit - (response?.body.count ?? 0) else { return tooLarge() }
        response?.body.append(contentsOf: bytes)
    }

    func upstreamEnded() {
        guard let response else { return }
        self.response = nil
        completion(.success(response))
    }

    func upstreamFailed(_ error: UpstreamError) {
        response = nil
        completion(.failure(error))
    }

    func upstreamWritabilityChanged(_ writable: Bool) {}

    private func tooLarge() {
        response = nil
        stream?.cancel()
        completion(.failure(UpstreamError(.responseTooLarge)))
    }
}
