import HTTPCodec

/// The `HTTPServerStream` of one request on a `ServerConnection`: its state, kept by the connection.
///
/// `@unchecked Sendable`: every stored `var` is touched only on the connection's loop thread; `respond(_:)`,
/// the one method callable elsewhere, hops to the loop first. Every method checks that the stream is still
/// its connection's current one, so a call after the end or the close does nothing.
final class ServerStream: HTTPServerStream, @unchecked Sendable {
    let owner: ServerConnection
    let loop: EventLoop
    let connection: ConnectionInfo
    let requestBodyLength: HTTPBodyLength
    let expectsContinue: Bool
    let isHeadRequest: Bool
    let isHTTP10: Bool
    /// The request allows keep-alive (version, `Connection`), before the response has a say.
    let requestKeepAlive: Bool
    /// A delegate set after the connection closed (the handler finished its work on another thread) is told
    /// `streamClosed()` at once, so it never starts work for a client that is gone.
    var delegate: (any HTTPServerStreamDelegate)? {
        didSet {
            guard closedEarly, let delegate else { return }
            self.delegate = nil
            delegate.streamClosed()
        }
    }
    /// The connection closed before the response ended.
    var closedEarly = false

    // Request body.
    var bodyWanted = false
    var bodyPaused = false
    var bodyComplete: Bool
    var bodyBytes = 0
    /// When reading the body began, moved on by time spent paused; 0 before.
    var bodyStartNanoseconds: UInt64 = 0
    var pausedAtNanoseconds: UInt64 = 0

    // Response.
    var headWritten = false
    var responseEnded = false
    var chunked = false
    /// Body bytes still owed for a known length; `Int.max` for chunked or close-delimited; 0 when bodyless.
    var remaining = 0
    var closeDelimited = false
    var responseKeepAlive = false
    var writable = true

    init(owner: ServerConnection, head: HTTPRequestHead, keepAlive: Bool) {
        self.owner = owner
        self.loop = owner.loop
        self.connection = owner.info
        self.requestBodyLength = head.bodyLength
        self.expectsContinue = head.expectsContinue
        self.isHeadRequest = head.request.method == "HEAD"
        self.isHTTP10 = head.request.version == .http1_0
        self.requestKeepAlive = keepAlive
        self.bodyComplete = head.bodyLength == .none
    }

    /// Whether the connection should be reading body bytes for this stream now.
    var readingBody: Bool { bodyWanted && !bodyPaused && !bodyComplete }

    var isWritable: Bool { writable }

    func readBody() {
        loop.assertInEventLoop()
        owner.streamReadBody(self)
    }

    func pauseBody() {
        loop.assertInEventLoop()
        guard owner.current === self, readingBody else { return }
        bodyPaused = true
        pausedAtNanoseconds = EventLoop.now()
        owner.inputDemandChanged()
    }

    func resumeBody() {
        loop.assertInEventLoop()
        guard owner.current === self, bodyPaused else { return }
        bodyPaused = false
        // Time spent waiting on the consumer is not the client's: the body's total deadline moves with it.
        if bodyStartNanoseconds != 0 { bodyStartNanoseconds &+= EventLoop.now() &- pausedAtNanoseconds }
        owner.inputDemandChanged()
    }

    func writeHead(_ response: HTTPResponse, bodyLength: HTTPBodyLength) {
        loop.assertInEventLoop()
        owner.streamWriteHead(self, response, bodyLength: bodyLength)
    }

    func writeBody(_ bytes: UnsafeRawBufferPointer) {
        loop.assertInEventLoop()
        owner.streamWriteBody(self, bytes)
    }

    func endResponse() {
        loop.assertInEventLoop()
        owner.streamEndResponse(self)
    }

    func abort() {
        loop.assertInEventLoop()
        guard owner.current === self else { return }
        delegate = nil
        owner.close()
    }

    func respond(_ response: HTTPResponse) {
        guard loop.inEventLoop else {
            loop.execute { self.respond(response) }
            return
        }
        guard owner.current === self, !headWritten else { return }
        owner.streamWriteHead(self, response, bodyLength: response.body.isEmpty ? .none : .known(response.body.count))
        if !response.body.isEmpty { response.body.withUnsafeBytes { owner.streamWriteBody(self, $0) } }
        owner.streamEndResponse(self)
    }
}
