import HTTPCodec

/// Answers requests as streams: the handler sees the head before any body byte is read, reads the body
/// only if and when it wants it, and writes the response in parts, with backpressure both ways.
///
/// `handle` is called on the connection's event loop thread once the head has been parsed. A server whose
/// handler conforms serves one request at a time per connection (pipelined requests wait in the socket).
/// A handler that answers without reading the body gets the connection closed after its answer: the unread
/// body cannot be told apart from a next request. Every streaming handler is also a buffered `HTTPHandler`
/// through `BufferedServerStream`, for callers that hold a whole request.
public protocol HTTPStreamingHandler: HTTPHandler {
    /// Takes the request (its `body` empty; the body comes through `stream`) and answers on `stream`.
    func handle(_ request: HTTPRequest, stream: any HTTPServerStream)
}

extension HTTPStreamingHandler {
    /// Runs the streaming handler over a whole request and collects its whole response.
    public func handle(
        _ request: HTTPRequest, connection: ConnectionInfo, loop: EventLoop,
        respond: @escaping @Sendable (HTTPResponse) -> Void
    ) {
        let stream = BufferedServerStream(body: request.body, connection: connection, loop: loop, respond: respond)
        let head = HTTPRequest(
            method: request.method, target: request.target, version: request.version, headers: request.headers)
        if loop.inEventLoop {
            handle(head, stream: stream)
        } else {
            loop.execute { self.handle(head, stream: stream) }
        }
    }
}

/// One request's body and response, for an `HTTPStreamingHandler`.
///
/// Loop thread only (`loop`), except `respond(_:)`, which may be called from any thread. Methods called after
/// the stream ended or closed do nothing. Calls made on the loop can reach the delegate synchronously (a
/// body byte already buffered is delivered inside `readBody()`), so set the delegate up first.
public protocol HTTPServerStream: AnyObject, Sendable {
    /// The loop the stream lives on.
    var loop: EventLoop { get }
    /// Facts about the connection, from the socket.
    var connection: ConnectionInfo { get }
    /// The request body's framing: none, a `Content-Length`, or chunked.
    var requestBodyLength: HTTPBodyLength { get }
    /// Told of body bytes, writability changes and an early close; held until the stream ends or closes. Set on a
    /// stream whose connection has already closed, it is told `streamClosed()` at once.
    var delegate: (any HTTPServerStreamDelegate)? { get set }
    /// Starts reading the body into the delegate; sends `100 Continue` first when the client waits for it.
    func readBody()
    /// Stops reading the body from the socket until `resumeBody()` (backpressure from the consumer).
    func pauseBody()
    /// Reads the body again after `pauseBody()`.
    func resumeBody()
    /// Writes the response head (status at least 200). `bodyLength` is the body as the response describes it:
    /// `.known(n)` writes `Content-Length`; `.unknown` is chunked to HTTP/1.1 clients and delimited by the
    /// close to HTTP/1.0 ones; `.none` writes `Content-Length: 0`. HEAD, 204 and 304 answers carry no body
    /// whatever is written.
    func writeHead(_ response: HTTPResponse, bodyLength: HTTPBodyLength)
    /// Writes body bytes (copied before the call returns).
    func writeBody(_ bytes: UnsafeRawBufferPointer)
    /// Ends the response; a known length not reached closes the connection instead.
    func endResponse()
    /// Whether the connection's outbound buffer is below its high-water mark (`writeBody` will not pile up).
    var isWritable: Bool { get }
    /// Gives up on the response: closes the connection (the delegate is not told).
    func abort()
    /// A whole response at once: head, body and end. Callable from any thread.
    func respond(_ response: HTTPResponse)
}

/// What an `HTTPServerStream` tells its handler. Loop thread only.
public protocol HTTPServerStreamDelegate: AnyObject {
    /// Request body bytes, de-chunked; valid during the call only.
    func streamBodyReceived(_ bytes: UnsafeRawBufferPointer)
    /// The whole request body has arrived.
    func streamBodyEnded()
    /// The outbound buffer crossed its high-water mark (false) or drained below its low-water mark (true).
    func streamWritabilityChanged(_ writable: Bool)
    /// The connection closed before the response ended: the client left, a timeout passed, or the body broke
    /// its framing or `MAX_BODY_SIZE` mid-stream. Nothing more can be read or written.
    func streamClosed()
}
